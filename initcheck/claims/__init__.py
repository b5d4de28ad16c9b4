"""What an initializer claims: specs (a distribution as a function of fans), the laws they
resolve to per shape, and initcheck's own NumPy samplers.
"""
