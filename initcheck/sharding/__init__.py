"""Tensors held in pieces: ``ShardedArray`` and its ``Exchange`` across ranks, the additive
partial statistics the checks merge, exact slice keys, and merges of many tensors at once.
"""
