"""Webhook benchmark: the full pipeline against a bare aiohttp + wechatpy echo (`python -m bench.webhook`)."""
