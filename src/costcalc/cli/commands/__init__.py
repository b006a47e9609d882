"""One module per command: parse options → request → library call → render → exit code."""
