"""Maths written once over an array namespace, shared by the backends: the evidence terms, the
lattice, the mapping, the positive-only solve, the lens light and the value types
(:class:`~autokern._shared.inversion.Inversion`,
:class:`~autokern._shared.visibility_terms.VisibilityTerms`)."""
