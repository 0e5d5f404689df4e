"""The lessons' exercise checkers, one module per lesson (``from dendrite.lessons.exercises import
backprop as check``). Each checker takes the learner's answer and returns a
:class:`~dendrite.lessons.verdict.Verdict`: correct, wrong with a hint, or not answered yet.
"""
