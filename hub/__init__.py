"""The hub: receives ratings over MQTT, stores each exactly once, issues receipts and reports.

``hub.domain`` is pure logic (validation outcomes, satisfaction arithmetic); ``hub.store`` is the
database adapter; ``hub.service`` the MQTT adapter (with ``hub.broker_link`` and
``hub.batch_commit``); ``hub.receipts`` issues and prints receipts.
"""
