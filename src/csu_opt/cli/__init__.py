"""The command line (click only): parses options, calls the rooms below, prints and exits."""
