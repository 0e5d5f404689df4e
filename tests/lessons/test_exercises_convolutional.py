"""Lesson 4's checkers: the reference answers pass, the placeholder is unanswered, the usual slips are
wrong with a message that names them, and learner code that raises is wrong (not a crash)."""

from __future__ import annotations

import math

import numpy as np
import pytest

import dendrite
import dendrite.nn.functional as F
from dendrite.lessons.exercises import convolutional as check


# ----------------------------------------------------------------------------- exercise 1
def _size(n, k, s, p):
    return (n + 2 * p - k) // s + 1


def test_size_reference_is_correct_and_matches_conv2d():
    assert check.conv_output_size(_size).status == "correct"
    for n, k, s, p in [(7, 3, 2, 0), (10, 4, 3, 1), (9, 3, 3, 2)]:
        out = F.conv2d(dendrite.zeros(1, 1, n, n), dendrite.zeros(1, 1, k, k), stride=s, padding=p)
        assert out.shape[-1] == _size(n, k, s, p)


def test_size_placeholder_is_unanswered():
    assert check.conv_output_size(...).status == "unanswered"
    assert check.conv_output_size(lambda n, k, s, p: ...).status == "unanswered"


@pytest.mark.parametrize(("slip", "says"), [
    (lambda n, k, s, p: (n + 2 * p - k) // s, "one short"),
    (lambda n, k, s, p: (n + p - k) // s + 1, "both sides"),
    (lambda n, k, s, p: math.ceil((n + 2 * p - k) / s) + 1, "round down"),
    (lambda n, k, s, p: n + 2 * p - k + 1, "stride is missing"),
    (lambda n, k, s, p: (n - k) // s + 1, "padding is missing"),
    (lambda n, k, s, p: (n + 2 * p - k) / s + 1, "whole number"),
    (lambda n, k, s, p: "28", "whole number"),
    (lambda n, k, s, p: n // 2, "count the positions"),
    (lambda n, k, s, p: n - k, "count the positions"),
])
def test_size_slips_are_named(slip, says):
    verdict = check.conv_output_size(slip)
    assert verdict.status == "wrong"
    assert says in verdict.message


def test_size_code_that_raises_is_wrong():
    verdict = check.conv_output_size(lambda n, k, s, p: n // 0)
    assert verdict.status == "wrong" and "ZeroDivisionError" in verdict.message


# ----------------------------------------------------------------------------- exercise 2
SOBEL_X = [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]]


@pytest.mark.parametrize("kernel", [SOBEL_X, np.array(SOBEL_X).T.T * -3, [[1, -1], [1, -1]],
                                    [[1, 0, -1]] * 3, np.tile([1, 2, 0, -2, -1], (5, 1))])
def test_edge_filters_that_are_correct(kernel):
    assert check.vertical_edge_filter(kernel).status == "correct"


def test_edge_placeholder_is_unanswered():
    assert check.vertical_edge_filter(...).status == "unanswered"
    assert check.vertical_edge_filter(None).status == "unanswered"


@pytest.mark.parametrize(("kernel", "says"), [
    (np.array(SOBEL_X).T, "horizontal edges"),
    (np.ones((3, 3)) / 9, "flat"),
    ([[0, 0, 0], [0, 1, 0], [0, 0, 0]], "flat"),
    (np.zeros((3, 3)), "all zeros"),
    ([[0, 1, 0], [1, -4, 1], [0, 1, 0]], "horizontal edges too"),
    ([[1, 0, -1], [0, 0, 0], [-1, 0, 1]], "hardly responds"),
    ([[1, 0, -1]], "shape"),
    ([1, 0, -1], "shape"),
    ([[0, 1, 0], [1, np.nan, 1], [0, 1, 0]], "NaN"),
])
def test_edge_slips_are_named(kernel, says):
    verdict = check.vertical_edge_filter(kernel)
    assert verdict.status == "wrong"
    assert says in verdict.message


# ----------------------------------------------------------------------------- exercise 3
def _count(c_in, c_out, k, bias):
    return c_out * c_in * k * k + (c_out if bias else 0)


def test_count_reference_is_correct():
    assert check.conv2d_parameters(_count).status == "correct"


def test_count_placeholder_is_unanswered():
    assert check.conv2d_parameters(...).status == "unanswered"

    def count(c_in, c_out, k, bias):
        ...

    assert check.conv2d_parameters(count).status == "unanswered"


@pytest.mark.parametrize(("slip", "says"), [
    (lambda i, o, k, b: o * k * k + (o if b else 0), "in_channels factor"),
    (lambda i, o, k, b: o * i * k * k + o, "bias=False"),
    (lambda i, o, k, b: o * i * k * k, "biases are missing"),
    (lambda i, o, k, b: o * i * k * k + (i * o if b else 0), "not one per filter slice"),
    (lambda i, o, k, b: o * i * k + (o if b else 0), "squared"),
    (lambda i, o, k, b: o * i * k * k + (i if b else 0), "input ones"),
    (lambda i, o, k, b: 28 * 28 * o, "count the weights"),
    (lambda i, o, k, b: "many", "whole number"),
])
def test_count_slips_are_named(slip, says):
    verdict = check.conv2d_parameters(slip)
    assert verdict.status == "wrong"
    assert says in verdict.message


def test_count_code_that_raises_is_wrong():
    def count(c_in, c_out, k, bias):
        return c_in.weight

    verdict = check.conv2d_parameters(count)
    assert verdict.status == "wrong" and "AttributeError" in verdict.message
