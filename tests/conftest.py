"""The test loop in one place: which tests are slow, which tests cover each rule family, and
the hypothesis profiles.

Tests are named by their module's basename and function name ("test_rules::test_x", or
"test_rules::test_x[case]" for one parametrisation), never by folder, so a test keeps its
entry wherever its file moves under tests/.

- ``make test-fast`` runs ``pytest -m "not slow"``: every test not in ``SLOW``, and the cases
  of a slow parametrised test that its ``Slow.fast`` keeps as a representative sample.
- ``make test`` (CI) runs everything.
- ``FAMILIES`` says which tests exercise each family of model/formulation.md (C1..C11), the
  mergers, the what-ifs and the verifier; tests/test_loop.py asserts each family keeps a fast
  test, so the fast loop cannot silently stop covering one.
- An entry of either table that names no test is a collection error: the tables cannot rot.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import pytest
from hypothesis import HealthCheck, settings

TESTS = Path(__file__).resolve().parent

# --------------------------------------------------------------------------- hypothesis

#: dev: small, quick feedback (the default, and make test-fast); ci: large (make test)
settings.register_profile("dev", max_examples=12, deadline=None)
settings.register_profile(
    "ci",
    max_examples=300,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))


# --------------------------------------------------------------------------- slow tests


@dataclass(frozen=True)
class Slow:
    """A slow test: all its cases, except the parametrisation ids in ``fast`` (a
    representative sample kept in the fast loop)."""

    fast: tuple[str, ...] = ()


ALL = Slow()

#: module basename::test name (or ::test name[id]) -> which cases are slow
SLOW: dict[str, Slow] = {
    # the times: one run of the whole suite on the 2-core machine (shared, so loaded),
    # 2026-12-05; everything at 0.3 s or more is here unless it is a family's fast test
    "test_oracle_refs::test_the_oracle_reproduces_the_stored_answers": ALL,  # the oracle, ~10 s
    # fixtures or caches that the slow tests used to pay for (measured in the fast loop)
    "test_explain::test_conflicts_found_by_the_deletion_filter": ALL,  # explains all 9 cases
    "test_polish::test_polish_cases_are_not_trivial": ALL,  # 7.5 s
    "test_late::test_a_network_handed_to_the_running_search_keeps_the_optimum": ALL,  # 68 cases
    "test_late::test_the_watch_fires_where_highs_root_leaves_a_wide_gap": ALL,  # 20-30 s
    "test_late::test_progress_names_the_late_reduction": ALL,  # 11 s
    "test_sweep_threshold::test_threshold_lines_figure_marks_the_tipping_point": ALL,  # 2 s
    "test_sweep_threshold::test_threshold_leads_figure_labels_each_value": ALL,
    "test_dw::test_dw_bound_is_stronger_than_lp_somewhere": ALL,  # 1.8 s
    "test_plots::test_sweep_heatmap_and_leads_matrix": ALL,  # a sweep, 1.7 s
    "test_whatif_proof::test_who_leads_matrix_marks_unproven_cases": ALL,  # a sweep, 1.4 s
    "test_whatif_proof::test_a_repair_is_proven_only_when_both_stages_are": ALL,
    "test_rules::test_random_set_mixes_feasible_and_infeasible_and_settings": ALL,  # 1 s
    "test_cli::test_solve_held_close_to_todays_arrangement": ALL,
    "test_cli::test_verify_against_another_instance_says_so_first": ALL,
    "test_instances::test_england_facts": Slow(fast=("england-2013",)),
    "test_export::test_bad_cell_in_sheet_is_reported_with_sheet_and_row": ALL,
    # free choice (C12): a sample of each oracle family stays fast
    "test_free_choice::test_random_model_equals_oracle": Slow(fast=("0", "1", "6")),
    "test_free_choice::test_independent_pairwise_formulation_same_optimum": Slow(fast=("0",)),
    "test_free_choice::test_matrix_same_model_row_for_row": Slow(fast=("0",)),
    "test_free_choice::test_random_set_mixes_markets_tables_and_outcomes": ALL,  # 8.3 s
    "test_free_choice::test_reduction_concurrent_and_polish_keep_the_free_optimum": ALL,  # 6.9 s
    "test_free_choice::test_cli_solves_both_markets_and_compare_gives_the_planners_answer": ALL,
    "test_free_choice::test_explain_names_free_choice_when_it_makes_the_instance_infeasible": ALL,
    "test_free_choice::test_aggregated_rows_are_at_least_as_tight_as_pairwise_in_the_lp": ALL,
    "test_free_choice::test_n_minus_1_repairs_keep_free_choice": ALL,  # 1.2 s
    "test_matrix::test_benchmarks_same_optimum": Slow(fast=("cap41-1040444.375",)),
    "test_tutorial::test_every_tutorial_command_runs": ALL,  # 285.4 s
    "test_instances::test_england_2013_finds_a_verified_solution": ALL,  # 120.1 s
    "test_instances::test_workbook_version_has_the_same_optimum": ALL,  # 30.2 s
    "test_instances::test_england_2014_solves_to_optimality": ALL,  # 26.2 s
    "test_polish::test_a_long_search_stops_at_its_share_and_polishes": ALL,  # 25.8 s
    "test_interrupt::test_sigterm_stops_a_what_if": ALL,  # 4 cases, 22.4 s
    "test_reduce::test_every_fixing_is_proven_by_a_forced_solve": Slow(
        fast=("33",)
    ),  # 13 cases, 20.7 s
    "test_sweep::test_resume_after_kill": ALL,  # 19.8 s
    "test_cuts::test_cuts_keep_the_oracle_optimum": Slow(
        fast=("12", "15", "13")
    ),  # 48 cases, 15.2 s
    "test_sweep::test_dask_local_cluster_gives_the_same_results": ALL,  # 15.2 s
    "test_sweep::test_threshold_search_finds_the_tipping_point": ALL,  # 14.4 s
    "test_progress::test_long_runs_show_progress_unless_quiet": ALL,  # 5 cases, 12.8 s
    "test_reduce::test_reduction_keeps_the_oracle_optimum": Slow(
        fast=("0", "10")
    ),  # 36 cases, 12.7 s
    "test_benchmarks::test_orlib_cap_published_optimum": Slow(fast=("cap72",)),  # 37 cases, 11.7 s
    # 11.1 s
    "test_interrupt::test_sigterm_during_a_sweep_stops_every_worker_and_the_rerun_completes": ALL,
    "test_polish::test_polish_reaches_the_lead_set_optimum_from_the_worst_network": Slow(
        fast=("11",)
    ),  # 12 cases, 11.0 s
    "test_cuts::test_cuts_tighten_the_shipped_instances": ALL,  # 2 cases, 8.7 s
    "test_matrix::test_greedy_start_is_feasible": Slow(fast=("cap41",)),  # 3 cases, 8.6 s
    "test_benchmarks::test_holmberg_published_optimum": Slow(fast=("p9",)),  # 24 cases, 8.2 s
    "test_explain::test_explain_names_the_rule": ALL,  # 9 cases, 8.2 s
    "test_sweep::test_sweep_objectives_equal_single_solves": ALL,  # 8.0 s
    "test_interrupt::test_signal_during_solve_leaves_no_folder": ALL,  # 2 cases, 7.9 s
    "test_sweep::test_persistent_resolves_match_rebuilds": ALL,  # 7.4 s
    "test_sweep::test_threshold_cli_writes_thresholds_json": ALL,  # 7.3 s
    "test_concurrent::test_concurrent_solve_equals_the_oracle": ALL,  # 4 cases, 7.1 s
    "test_reduce::test_interrupted_reduced_solve_keeps_a_valid_bound": ALL,  # 6.6 s
    # network exchange during the LP stage (worker processes; 2026-12-07)
    "test_exchange::test_the_background_exchange_walks_as_one_at_a_time": ALL,  # 14 s
    "test_exchange::test_with_two_workers_the_reduction_exchanges_during_the_lp_stage": ALL,
    "test_exchange::test_a_signal_during_the_lp_stage_ends_the_background_workers": ALL,  # 7 s
    "test_interrupt::test_sigterm_during_a_solve_held_to_an_incumbent": ALL,  # 6.5 s
    "test_concurrent::test_concurrent_solve_reaches_the_published_optimum": ALL,  # 3 cases, 6.1 s
    "test_rules::test_random_model_equals_oracle": Slow(fast=("0", "1", "9")),  # 36 cases, 6.0 s
    "test_sweep::test_a_case_has_a_folder_exactly_when_sweep_db_records_it": ALL,  # 5.6 s
    "test_mergers::test_cli_solve_plot_compare_on_a_merger_run": ALL,  # 5.2 s
    "test_matrix::test_rule_instances_same_optimum": Slow(
        fast=("C1_lead_max-tight", "C9_network_quality-tight")
    ),  # 32 cases, 4.9 s
    "test_sweep_threshold::test_threshold_export_has_the_key_and_marks_the_change": ALL,  # 4.7 s
    "test_report::test_sweep_report": ALL,  # 4.4 s
    "test_report_whatif::test_report_shows_each_whatif_result_present": ALL,  # 4.4 s
    "test_interrupt::test_a_stop_keeps_the_instances_solved_before_it": ALL,  # 4.4 s
    "test_polish::test_timing_parts_are_disjoint_and_add_up_to_the_total": Slow(
        fast=("matrix-1-90",)
    ),  # 3 cases, 3.7 s
    "test_generate::test_england_scale_files_load_and_keep_the_witness": ALL,  # 3.7 s
    "test_polish::test_polish_after_a_race": ALL,  # 3.6 s
    "test_cuts::test_cut_instances_exercise_every_family": ALL,  # 3.5 s
    "test_interrupt::test_interrupting_a_pyomo_solve_prints_no_pyomo_warning": ALL,  # 3.3 s
    "test_explain_whatif::test_data_checks_never_claim_too_much": Slow(
        fast=("11", "8", "12")
    ),  # 16 cases, 3.2 s
    "test_concurrent::test_cli_concurrent_writes_both_logs": ALL,  # 3.2 s
    "test_mergers::test_sweep_varies_a_merger_synergy": ALL,  # 3.1 s
    "test_interrupt::test_sigterm_during_concurrent_solve_stops_every_search": ALL,  # 3.1 s
    "test_mergers::test_demo_mergers_validates_solves_and_beats_the_demo": ALL,  # 3.0 s
    "test_concurrent::test_concurrent_solve_stops_on_request_with_a_valid_bound": ALL,  # 2.9 s
    "test_interrupt::test_workers_stop_when_the_sweep_is_killed": ALL,  # 2.8 s
    "test_reduce::test_published_optimum_with_reduction": Slow(
        fast=("cap71", "cap104")
    ),  # 9 cases, 2.8 s
    "test_matrix::test_random_instances_same_model": Slow(fast=("10", "3", "0")),  # 36 cases, 2.7 s
    "test_report::test_report_of_an_infeasible_run_leads_with_the_explanation": ALL,  # 2.6 s
    "test_fuzz::test_same_solution_in_fresh_processes": ALL,  # 2.5 s
    "test_sweep::test_sweep_polish_option": ALL,  # 2.5 s
    "test_matrix::test_time_limit_and_options": ALL,  # 2 cases, 2.5 s
    "test_whatif_proof::test_rule_costs_every_solve_stopped": ALL,  # 2.4 s
    "test_mergers::test_random_instances_agree_with_the_merger_oracle": Slow(
        fast=("3", "6")
    ),  # 8 cases, 2.4 s
    "test_whatif_proof::test_rule_costs_of_an_unproven_base": ALL,  # 2.2 s
    "test_cli::test_infeasible_moves_limit_is_explained_by_its_own_rule": ALL,  # 2.2 s
    "test_whatif_proof::test_sweep_export_carries_proof": ALL,  # 2.1 s
    "test_matrix::test_rule_instances_same_model": Slow(
        fast=(
            "C1_lead_max-tight",
            "C1_lead_min-tight",
            "C2_max_leads_per_subcontractor-tight",
            "C2_exit_or_stay-tight",
            "C3_subcontract_only_to_a_lead-tight",
            "C4_every_ccg_placed-tight",
            "C5_network_balance-tight",
            "C6_capacity-tight",
            "C6_capacity_shared_across_networks-tight",
            "C7_eligibility-tight",
            "C8_full_coverage_without_demand-tight",
            "C8_zero_capacity_is_not_eligible-tight",
            "C9_network_quality-tight",
            "C10_self_delivery-tight",
            "C11_viability-tight",
            "single_sourcing-tight",
        )
    ),  # 32 cases, 2.0 s
    "test_reduce::test_aggregate_bound_is_below_the_lp_bound_and_the_optimum": Slow(
        fast=("34", "10", "7")
    ),  # 36 cases, 2.0 s
    "test_whatif_proof::test_tradeoff_with_unproven_points": ALL,  # 2 cases, 1.9 s
    "test_whatif::test_robust_network_covers_every_line_twice": ALL,  # 1.9 s
    "test_matrix::test_matrix_session_resolves_like_fresh_solves": ALL,  # 2 cases, 1.8 s
    "test_concurrent::test_concurrent_solve_of_an_infeasible_instance": ALL,  # 1.8 s
    "test_sweep_threshold::test_threshold_plot_and_report_commands": ALL,  # 1.8 s
    "test_report::test_report_embeds_every_figure": ALL,  # 1.7 s
    "test_dw::test_price_and_branch_returns_feasible_networks_often_the_optimum": ALL,  # 1.6 s
    "test_matrix::test_england_same_model_with_and_without_cuts": ALL,  # 1.6 s
    "test_reduce::test_reduction_with_column_generation_keeps_the_optimum": Slow(
        fast=("6", "34", "28")
    ),  # 18 cases, 1.6 s
    "test_matrix::test_random_instances_same_optimum": Slow(fast=("30", "18")),  # 12 cases, 1.6 s
    "test_dw::test_dw_bound_lies_between_lp_and_optimum": Slow(fast=("10", "0")),  # 12 cases, 1.5 s
    # 68 tiny cases each (23 for the reduction), under 0.1 s apiece (2026-12-06):
    # a sample in the fast loop
    "test_lagrange::test_bound_never_exceeds_the_optimum_at_any_multipliers": Slow(
        fast=("cuts-9", "rules-random-16")
    ),
    "test_lagrange::test_bound_at_the_lp_duals_is_the_lp_bound": Slow(
        fast=("cuts-45", "rules-random-13")
    ),
    "test_lagrange::test_network_lp_reaches_the_whole_lp_and_every_round_bounds": Slow(
        fast=("cuts-25", "rules-random-16")
    ),
    "test_lagrange::test_the_reduction_by_network_keeps_the_oracle_optimum": Slow(
        fast=("cuts-34", "rules-random-13")
    ),
    # the Lagrangian ascent (2026-12-07): 68 / 38 / 34 tiny cases, 0.7 s apiece for the
    # reduction stopped early; the climb over all 68 cases takes 10 s
    "test_lagrange::test_the_point_gives_l_and_a_supergradient": Slow(
        fast=("cuts-42", "rules-random-16")
    ),
    "test_lagrange::test_the_ascent_finds_nothing_above_the_lp_with_one_lead_per_subcontractor": (
        Slow(fast=("cuts-8", "rules-random-23"))
    ),
    "test_lagrange::test_the_ascent_climbs_towards_the_lp_bound_and_never_past_the_optimum": ALL,
    "test_lagrange::test_the_reduction_stopped_early_raises_its_bound_by_the_ascent": Slow(
        fast=("cuts-4", "rules-random-12")
    ),
    "test_lagrange::test_the_reduction_stopped_early_runs_the_ascent_on_several_cases": ALL,
    # relax and fix (issue 19): 34 single-sourced tiny cases (12 for the reduction), under
    # 0.2 s apiece (2026-12-06); the count over all 34 takes 0.6 s
    "test_split_fix::test_split_then_fix_gives_networks_only_and_leaves_the_model_whole": Slow(
        fast=("cuts-5", "rules-random-19")
    ),
    "test_split_fix::test_reduction_with_split_then_fix_keeps_the_optimum": Slow(
        fast=("rules-random-11",)
    ),
    "test_split_fix::test_split_then_fix_finds_every_optimum_here": ALL,
    "test_split_fix::test_progress_shows_no_split_network": ALL,  # big_instance proven, 14 s
    "test_split_fix::test_a_stop_in_the_split_step_is_clean": ALL,  # 0.4 s
    # alternating fixes (issue 19): the same 34 cases, under 0.2 s apiece (2026-12-07)
    "test_alternate::test_alternation_gives_whole_networks_and_leaves_the_model_whole": Slow(
        fast=("cuts-5", "rules-random-19")
    ),
    "test_alternate::test_reduction_with_alternation_keeps_the_optimum": Slow(
        fast=("rules-random-11",)
    ),
    "test_alternate::test_alternation_finds_most_optima_here": ALL,  # 1.1 s
    "test_alternate::test_alternation_on_a_larger_case_keeps_the_optimum": ALL,  # 14 s
    "test_alternate::test_a_stop_in_the_alternation_is_clean": ALL,  # 0.3 s
    "test_report::test_report_of_a_limit_says_not_optimal": ALL,  # 1.5 s
    "test_plots::test_sweep_lines_one_line_per_other_value_with_gap_band": ALL,  # 1.5 s
    "test_explain::test_alternatives_cover_every_conflicting_rule_with_a_knob": ALL,  # 1.5 s
    "test_rules::test_time_limit_reports_a_gap": ALL,  # 1.4 s
    "test_matrix::test_benchmarks_same_model": Slow(fast=("cap41",)),  # 7 cases, 1.4 s
    "test_interrupt::test_an_interrupted_pyomo_solve_logs_no_appsi_warning": ALL,  # 1.3 s
    "test_explain_whatif::test_keeping_today_collides_with_viability": ALL,  # 1.3 s
    "test_cli::test_infeasible_solve_is_explained": ALL,  # 1.2 s
    "test_whatif_cli::test_resilience_robust_without_a_robust_network": ALL,  # 1.2 s
    "test_explain_whatif::test_merged_body_does_not_add_capacity": ALL,  # 1.1 s
    "test_generate::test_small_generated_instances_solve": Slow(
        fast=("6-20-5-0-0.6", "8-30-5-1-0.6")
    ),  # 6 cases, 1.1 s
    "test_mergers::test_capability_of_the_body_derived_or_given": Slow(
        fast=("explicit-row",)
    ),  # 3 cases, 1.1 s
    "test_real_ccgs::test_england_instances_carry_the_real_ccgs": ALL,  # 3 cases, 1.1 s
    "test_explain::test_the_suggestion_is_feasible_and_smallest": ALL,  # 9 cases, 1.1 s
    "test_explain::test_two_quality_bars_relaxed_together": ALL,  # 1.0 s
    "test_cli::test_quiet_prints_nothing_on_success": ALL,  # 1.0 s
    "test_cli::test_explain_command_exit_codes": ALL,  # 1.0 s
    "test_whatif_proof::test_resilience_of_a_proven_network_is_exact": ALL,  # 1.0 s
    "test_start::test_attached_subcontractor_by_hand": Slow(
        fast=("cannot-reach-minimum",)
    ),  # 4 cases, 1.0 s
    "test_matrix::test_mutable_same_model": ALL,  # 3 cases, 1.0 s
    "test_explain_whatif::test_a_feasible_moves_limit_and_an_infeasible_instance": ALL,  # 0.9 s
    "test_whatif_proof::test_rule_costs_of_a_proven_base_collapse_to_the_oracle": ALL,  # 0.9 s
    "test_matrix::test_generated_same_model": Slow(fast=("6-20-0",)),  # 3 cases, 0.9 s
    "test_mergers::test_workbook_export_keeps_the_mergers": ALL,  # 0.8 s
    # 0.8 s
    "test_whatif_proof::test_repairs_not_found_before_a_limit_are_not_called_impossible": ALL,
    "test_polish::test_solve_polishes_a_search_stopped_early": Slow(
        fast=("matrix-68-False",)
    ),  # 4 cases, 0.8 s
    "test_compare::test_compare_command": ALL,  # 0.7 s
    "test_real_ccgs::test_make_instances_reproduces_the_shipped_files": ALL,  # 0.7 s
    "test_explain::test_the_instance_really_is_infeasible": Slow(
        fast=("eligibility", "lead_max")
    ),  # 9 cases, 0.7 s
    "test_matrix::test_merger_instances_same_model": Slow(fast=("6", "7")),  # 8 cases, 0.7 s
    "test_mergers::test_resilience_a_failed_member_takes_its_merged_bodies_with_it": ALL,  # 0.7 s
    "test_cli::test_infeasible_exit_3_with_plain_statement": ALL,  # 0.7 s
    "test_mergers::test_to_document_round_trip_and_with_changes": ALL,  # 0.6 s
    "test_whatif::test_exit_that_uncovers_a_line_ranks_first": ALL,  # 0.6 s
    "test_plots::test_plot_command_on_a_sweep": ALL,  # 0.6 s
    "test_reduce::test_reduced_cost_fixing_is_valid_on_the_demo": ALL,  # 0.6 s
    "test_instances::test_instance_validates_and_is_consistent": Slow(
        fast=("demo",)
    ),  # 4 cases, 0.6 s
    "test_maps::test_resilience_map_highlights_the_ccgs_that_move": ALL,  # 0.6 s
    "test_mergers::test_the_threshold_is_where_both_costs_meet": ALL,  # 0.6 s
    "test_maps::test_resilience_map_without_a_repair": ALL,  # 0.6 s
    "test_matrix::test_progress_stop_and_log_file": Slow(fast=("matrix",)),  # 2 cases, 0.5 s
    "test_export::test_shipped_workbook_matches_csv_instance": ALL,  # 0.5 s
    "test_whatif_proof::test_sweep_report_names_unproven_cases": ALL,  # 0.5 s
    "test_plots::test_plot_command_png_and_svg": ALL,  # 0.5 s
    "test_explain_whatif::test_tradeoff_gives_each_infeasible_point_its_reason": ALL,  # 0.5 s
    "test_whatif::test_rule_costs_of_an_infeasible_instance": ALL,  # 0.5 s
    "test_explain_whatif::test_robust_network_impossible_with_one_lead": ALL,  # 0.5 s
    "test_reduce::test_column_generation_lp_equals_the_direct_lp": ALL,  # 0.5 s
    "test_matrix::test_generated_same_optimum": Slow(fast=("8-40-0",)),  # 2 cases, 0.5 s
    "test_cuts::test_quality_cover_left_out": Slow(
        fast=("the lead meets the target-inst0",)
    ),  # 3 cases, 0.5 s
    "test_whatif_proof::test_churn_solve_says_whether_its_objective_is_proven": ALL,  # 0.5 s
    "test_export::test_demo_workbook_round_trip_same_content_and_optimum": ALL,  # 0.5 s
    "test_whatif_proof::test_alternatives_against_an_unproven_optimum": ALL,  # 0.4 s
    "test_matrix::test_demo_mergers_same_model_and_optimum": ALL,  # 0.4 s
    "test_maps::test_compare_map_highlights_exactly_the_moved_ccgs": ALL,  # 0.4 s
    "test_fuzz::test_same_instance_and_options_give_the_same_solution": ALL,  # 0.4 s
    "test_compare::test_same_instance_fewer_leads": ALL,  # 0.4 s
    "test_mergers::test_alternative_mergers_sharing_a_member_are_never_both_formed": ALL,  # 0.4 s
    "test_whatif_proof::test_resilience_of_an_unproven_network": ALL,  # 0.4 s
    "test_explain_whatif::test_robust_network_impossible_from_the_data": ALL,  # 0.4 s
    "test_whatif_proof::test_unproven_rule_costs_in_the_files_and_report": ALL,  # 0.4 s
    "test_polish::test_cli_polish": ALL,  # 0.3 s
    "test_whatif::test_warm_start_maps_the_base_onto_a_relaxed_model": ALL,  # 0.3 s
    "test_benchmarks::test_tiny_cflp_solves_through_files": ALL,  # 0.3 s
    "test_reduce::test_reduction_alone_can_prove_the_gap": ALL,  # 0.3 s
    "test_mergers::test_verify_catches_a_merged_member_of_an_unformed_body": ALL,  # 0.3 s
    "test_explain_whatif::test_forced_moves_are_the_whole_reason": ALL,  # 0.3 s
    "test_whatif::test_split_sourcing_incumbent": ALL,  # 0.3 s
    "test_reduce::test_bound_when_the_lp_does_not_finish_is_the_aggregate": ALL,  # 0.3 s
    "test_explain_whatif::test_fewest_moves_against_brute_force": ALL,  # 0.3 s
    "test_whatif::test_incumbent_with_a_lead_that_cannot_lead": ALL,  # 0.3 s
    "test_reduce::test_reduction_can_be_turned_off": ALL,  # 0.3 s
}

# --------------------------------------------------------------------------- rule families

#: family -> tests that exercise it (module basename::test name, optionally [id])
_RULE = "test_rules::test_rule_switches_the_answer"
_ROWS = "test_matrix::test_rule_instances_same_model"
FAMILIES: dict[str, tuple[str, ...]] = {
    "C1": (f"{_RULE}[C1_lead_max]", f"{_RULE}[C1_lead_min]", f"{_ROWS}[C1_lead_max-tight]"),
    "C2": (
        f"{_RULE}[C2_max_leads_per_subcontractor]",
        f"{_RULE}[C2_exit_or_stay]",
        f"{_ROWS}[C2_exit_or_stay-tight]",
    ),
    "C3": (
        f"{_RULE}[C3_subcontract_only_to_a_lead]",
        f"{_ROWS}[C3_subcontract_only_to_a_lead-tight]",
    ),
    "C4": (
        f"{_RULE}[C4_every_ccg_placed]",
        "test_rules::test_c4_ccg_without_demand_is_still_placed_with_a_lead",
    ),
    "C5": (f"{_RULE}[C5_network_balance]", f"{_ROWS}[C5_network_balance-tight]"),
    "C6": (f"{_RULE}[C6_capacity]", f"{_RULE}[C6_capacity_shared_across_networks]"),
    "C7": (f"{_RULE}[C7_eligibility]",),
    "C8": (
        f"{_RULE}[C8_full_coverage_without_demand]",
        f"{_RULE}[C8_zero_capacity_is_not_eligible]",
    ),
    "C9": (f"{_RULE}[C9_network_quality]", f"{_ROWS}[C9_network_quality-tight]"),
    "C10": (f"{_RULE}[C10_self_delivery]", f"{_ROWS}[C10_self_delivery-tight]"),
    "C11": (f"{_RULE}[C11_viability]", f"{_ROWS}[C11_viability-tight]"),
    "single sourcing": (f"{_RULE}[single_sourcing]",),
    "C12 free choice": (
        "test_free_choice::test_hand_worked_free_choice_costs_the_dear_assignments",
        "test_free_choice::test_random_model_equals_oracle[0]",
        "test_free_choice::test_verify_accepts_the_free_optimum_and_catches_a_managed_assignment",
    ),
    "random instances against the oracle": (
        "test_rules::test_random_model_equals_oracle",
        "test_cuts::test_cuts_keep_the_oracle_optimum",
    ),
    "mergers": (
        "test_mergers::test_merger_chosen_exactly_when_synergy_beats_separate_costs",
        "test_mergers::test_random_instances_agree_with_the_merger_oracle",
        "test_mergers::test_roles_verify_and_a_corrupted_solution",
    ),
    "what-if: resilience": (
        "test_whatif::test_reoptimise_repair_matches_brute_force",
        "test_whatif_cli::test_resilience_command_writes_ranked_csv",
    ),
    "what-if: disruption": (
        "test_whatif::test_zero_moves_reproduces_the_incumbent",
        "test_whatif::test_tradeoff_curve",
        "test_whatif_cli::test_tradeoff_command",
    ),
    "what-if: rule costs": (
        "test_whatif::test_rule_costs_known_answers",
        "test_whatif_cli::test_rule_costs_command",
    ),
    "what-if: alternatives": (
        "test_whatif::test_alternatives_distinct_within_tolerance",
        "test_whatif_cli::test_alternatives_command",
    ),
    "verify": (
        "test_verify::test_accepts_the_optimum_of_tiny",
        "test_verify::test_catches_corrupted_results",
    ),
}


# --------------------------------------------------------------------------- the hook


@dataclass(frozen=True)
class Key:
    """A test as the tables name it."""

    module: str
    name: str
    case: str | None = None

    @classmethod
    def parse(cls, text: str) -> Key:
        module, _, rest = text.partition("::")
        name, _, case = rest.partition("[")
        return cls(module, name, case[:-1] if case else None)

    @classmethod
    def of(cls, item: pytest.Item) -> Key:
        case = item.callspec.id if hasattr(item, "callspec") else None
        name = getattr(item, "originalname", item.name)
        return cls(Path(str(item.path)).stem, name, case)


def is_slow(key: Key) -> bool:
    """Whether the table ``SLOW`` marks this test case slow."""
    if key.case is not None and f"{key.module}::{key.name}[{key.case}]" in SLOW:
        return True
    entry = SLOW.get(f"{key.module}::{key.name}")
    return entry is not None and key.case not in entry.fast


def runs_fast(key: Key) -> bool:
    """Whether make test-fast runs this test (without a case: some case of it)."""
    if key.case is not None:
        return not is_slow(key)
    entry = SLOW.get(f"{key.module}::{key.name}")
    return entry is None or bool(entry.fast)


def table_entries() -> Iterable[tuple[str, str]]:
    """(table, entry) for every test named by SLOW, Slow.fast and FAMILIES."""
    for text, slow in SLOW.items():
        yield "SLOW", text
        for case in slow.fast:
            yield "SLOW", f"{text}[{case}]"
    for family, texts in FAMILIES.items():
        for text in texts:
            yield f"FAMILIES[{family}]", text


def stale_entries(collected: Iterable[Key], whole_modules: bool) -> list[str]:
    """Entries naming a test that does not exist.

    A module with no file under tests/ is stale. A test (or case) is checked against the
    collected ones of its module when that module was collected; a node id on the command
    line collects part of a module only, so ``whole_modules=False`` checks modules only.
    """
    files = {p.stem for p in TESTS.rglob("test_*.py")}
    names: dict[str, set[str]] = {}
    for k in collected:
        names.setdefault(k.module, set()).add(k.name)
        if k.case is not None:
            names[k.module].add(f"{k.name}[{k.case}]")
    stale = []
    for table, text in table_entries():
        key = Key.parse(text)
        if key.module not in files:
            stale.append(f"{table}: {text} (no module {key.module}.py under tests/)")
        elif whole_modules and key.module in names:
            wanted = key.name if key.case is None else f"{key.name}[{key.case}]"
            if wanted not in names[key.module]:
                stale.append(f"{table}: {text} (no such test)")
    return stale


@pytest.fixture
def loop() -> ModuleType:
    """This module: its tables and their checks, for tests/test_loop.py."""
    return sys.modules[__name__]


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark the slow tests (before -m selects), then refuse stale table entries."""
    keys = []
    for item in items:
        key = Key.of(item)
        keys.append(key)
        if is_slow(key):
            item.add_marker(pytest.mark.slow)
    whole = not any("::" in str(a) for a in config.args)
    stale = stale_entries(keys, whole_modules=whole)
    if stale:
        raise pytest.UsageError(
            "tests/conftest.py names tests that do not exist:\n  " + "\n  ".join(stale)
        )
