"""Pure builders: from an AIJob (and the runtime catalog) to the objects the operator owns.

No I/O and no kopf here: every function takes values and returns lightkube models,
so each is unit-tested table-driven.
"""
