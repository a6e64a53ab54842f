"""Chat completions and embeddings, relayed from the API process to OpenAI-compatible upstreams.

No job and no worker hop: the request is validated (``schemas``), one credit is held in the
ledger before the upstream is called (``billing``), the upstream answers through one async
HTTP client (``upstream``), and ``relay`` settles the price (1 credit + 1 per tool call for
chat, 1 per embeddings request) or releases the hold when the upstream fails.
"""
