"""The defaults users see, in one place (no imports: the CLI's parser and the pytest plugin
read them without loading numpy)."""

#: Family-wise false-alarm budget of one ``verify`` call.
DEFAULT_ALPHA = 1e-6
#: Family-wise false-alarm budget of a whole audit, split evenly over its initializers.
DEFAULT_AUDIT_ALPHA = 1e-5
#: Family-wise false-alarm budget of a pytest session, split over the verifying tests.
DEFAULT_SESSION_ALPHA = 1e-4
#: The propagation net: depth, width and batch of the simulated MLP.
DEFAULT_DEPTH = 50
DEFAULT_WIDTH = 256
DEFAULT_BATCH = 256
#: Growth of the signal over the depth tolerated before it counts as vanishing or
#: exploding (the propagation property over its net; trace_model over a model's blocks).
PROPAGATION_FACTOR = 100.0
