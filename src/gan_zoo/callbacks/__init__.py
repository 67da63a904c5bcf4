"""Lightning callbacks: checkpoints and run status, sample grids, progress display."""
