"""The XML Subscription Manager: the gateway's data sets (XRDs) over HTTP.

Snapshots as JSON or XML, server-sent events and WebSocket push fed from the store's
change feed, exec commands at configuration privilege, HTTP basic authentication
against the configured users, Prometheus metrics, and the statistics history.
"""
