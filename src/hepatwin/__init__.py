"""hepatwin: chronic liver disease and mesenchymal stem cell therapy, simulated.

Research software. Nothing it produces is clinical advice.
"""

__version__ = "0.1.0"

DISCLAIMER = (
    "hepatwin is research software. Its outputs are simulations, not clinical advice, "
    "and must not be used to make decisions about any patient."
)
