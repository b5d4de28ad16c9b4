"""The ground floor: result types and their schemas, fans and layouts, the initializer
contract, seeds, defaults, argument checks, memory and thread limits. Imports nothing above.
"""
