"""The receiver: verifies provider webhooks, normalises them into events and queues them.

Nothing in here imports `workers`: jobs are enqueued by dotted path.
"""
