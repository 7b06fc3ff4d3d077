"""Notices to borrowers: the PDF letter, its content-addressed store, and the delivery outbox.

- render.py      `render_notice(content, borrower, organiser) -> bytes` (deterministic PDF, fi/sv)
- store.py       `PdfStore(root)`: `put(pdf) -> sha256`, `get(sha256) -> bytes` (verified)
- outbox.py      `Outbox(sql_store, pdf_store)`: `enqueue`, `deliver_pending`, `sync_events`
- printfolder.py `PrintFolderAdapter(root)`: letters for a printing service (channel "letter")
- suomifi.py     `SuomiFiMessagesAdapter(...)`: Suomi.fi Messages REST API (channel "suomifi")
"""
