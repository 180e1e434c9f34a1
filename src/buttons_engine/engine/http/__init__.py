"""HTTP buttons: one templated request, dispatched safely (CONTRACT 7.4, DEVIATIONS D4).

Imported only when an HTTP button is pressed or dry-run (``pipeline.runner_for``), so code
buttons never pay for httpx. One module per concern::

    plan       template URL, headers and body (engine.http_template), the host lock and every
               check that needs no network -> a RequestPlan, or the reason it is refused
    transport  the press deadline on every socket operation, and a connection pool that can
               only reach addresses the SSRF check accepted (pinned; never resolves a name)
    errors     the one table that turns httpcore, ssl, socket and SSRF failures into Buttons errors
    runner     HttpRunner: resolve and check each hop, follow redirects (each hop re-checked),
               read the body through the masking filter up to the cap
"""
