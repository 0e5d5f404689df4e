"""no_grad / enable_grad / set_grad_enabled / inference_mode: context managers and decorators."""

from __future__ import annotations

import pytest

import dendrite

w = dendrite.ones(2, requires_grad=True)


def test_no_grad_context():
    with dendrite.no_grad():
        assert not dendrite.is_grad_enabled()
        y = w * 2
    assert dendrite.is_grad_enabled()
    assert not y.requires_grad and y.grad_fn is None


def test_enable_grad_inside_no_grad():
    with dendrite.no_grad():
        with dendrite.enable_grad():
            y = w * 2
        z = w * 2
    assert y.requires_grad and not z.requires_grad


def test_no_grad_as_decorator_with_and_without_parentheses():
    @dendrite.no_grad()
    def with_parens():
        return w * 2

    @dendrite.no_grad
    def without_parens():
        return w * 2

    assert not with_parens().requires_grad
    assert not without_parens().requires_grad
    assert without_parens.__name__ == "without_parens"
    assert dendrite.is_grad_enabled()


def test_enable_grad_decorator():
    @dendrite.enable_grad()
    def compute():
        return w * 2

    with dendrite.no_grad():
        assert compute().requires_grad


def test_set_grad_enabled_as_call_context_and_decorator():
    with dendrite.set_grad_enabled(False):
        assert not (w * 2).requires_grad
    assert dendrite.is_grad_enabled()

    @dendrite.set_grad_enabled(False)
    def compute():
        return w * 2

    assert dendrite.is_grad_enabled()  # decorating does not switch the mode
    assert not compute().requires_grad
    dendrite.set_grad_enabled(False)
    try:
        assert not dendrite.is_grad_enabled()
    finally:
        dendrite.set_grad_enabled(True)


def test_mode_is_restored_after_an_exception():
    with pytest.raises(ValueError):
        with dendrite.no_grad():
            raise ValueError
    assert dendrite.is_grad_enabled()


def test_inference_mode():
    with dendrite.inference_mode():
        assert not (w * 2).requires_grad
    with dendrite.inference_mode(False):
        assert (w * 2).requires_grad

    @dendrite.inference_mode()
    def compute():
        return w * 2

    assert not compute().requires_grad


def test_no_grad_is_reentrant_and_nests():
    context = dendrite.no_grad()
    with context:
        with dendrite.enable_grad():
            with context:
                assert not dendrite.is_grad_enabled()
            assert dendrite.is_grad_enabled()
        assert not dendrite.is_grad_enabled()
    assert dendrite.is_grad_enabled()


def test_the_same_context_object_entered_twice_restores_each_level():
    context = dendrite.no_grad()
    with dendrite.no_grad():
        with context:
            with dendrite.enable_grad():
                with context:
                    assert not dendrite.is_grad_enabled()
                assert dendrite.is_grad_enabled()
        assert not dendrite.is_grad_enabled()
    assert dendrite.is_grad_enabled()
