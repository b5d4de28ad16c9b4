"""The frameworks' catalogues: each framework's initializers with the specs its documentation
states (the framework imports on use). ``initcheck.audit`` loads them by name.
"""
