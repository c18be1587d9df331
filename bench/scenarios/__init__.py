"""One module per scenario; each has `run(context) -> Result`."""
