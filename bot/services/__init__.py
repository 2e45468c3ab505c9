"""Use cases: functions taking a session and plain values, returning results without Telegram.

Handlers parse an update, call one of these and render what it returns; jobs decide when to
call them. They may import the domain (`bot.*` pure modules) and `db`, never `telegram`,
`handlers` or `jobs`.
"""
