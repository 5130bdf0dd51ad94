"""Jobs: what to do (specs), what happened (events), and the one worker thread that owns the GPU."""
