"""The web layer: thin, requests become service calls and answers become JSON or pages.

- blueprints, one package each with its routes: ``api`` (JSON, ``/healthz``), ``boards`` (the
  screens), ``tickets`` (the customer's ticket page); Socket.IO handlers in ``sockets``;
- extensions, each bound per app by ``init_app`` in the factory: ``database`` (the event store),
  ``live`` (a Socket.IO server per app), ``i18n`` (Flask-Babel), ``security`` (the security
  headers of every answer, a trusted proxy's ProxyFix); ``service`` holds the app's branch service;
- shared by the areas: ``auth`` (token → grant), ``pages`` (page shell and headers),
  ``request_json`` (the JSON body of a request).
"""
