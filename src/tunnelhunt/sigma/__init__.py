"""Sigma rules as content: pySigma parses, tunnelhunt compiles to the same SQL the SPL compiler produces."""
