"""Typed value parsers of configuration values."""
import pytest

from niftydrive.utilities.user_parameters_helper import (
    float_array, int_array, make_input_tuple, parse_literal, spatial_atleast3d,
    spatialnumarray, str2boolean, str_array, strip_quotes, to_float, to_int)


@pytest.mark.parametrize('text', ['True', 'yes', 'Y', '1', 't', ' TRUE '])
def test_true_values(text):
    assert str2boolean(text) is True


@pytest.mark.parametrize('text', ['False', 'no', 'N', '0', 'f'])
def test_false_values(text):
    assert str2boolean(text) is False


def test_bad_boolean_says_what_is_expected():
    with pytest.raises(ValueError, match='expected a boolean.*"maybe"'):
        str2boolean('maybe')


def test_arrays():
    assert int_array('(20, 42, 42)') == (20, 42, 42)
    assert int_array('20, 42') == (20, 42)
    assert int_array('[1 2 3]') == (1, 2, 3)
    assert int_array('5') == (5,)
    assert int_array('(1,)') == (1,)
    assert int_array('()') == ()
    assert float_array('(-10.0, 10)') == (-10.0, 10.0)
    assert str_array('T1,T2, T1c') == ('T1', 'T2', 'T1c')
    assert str_array('(A, R, S)') == ('A', 'R', 'S')
    assert str_array('IXI image') == ('IXI image',)
    assert str_array('"a", \'b\'') == ('a', 'b')
    with pytest.raises(ValueError, match='tuple of integers.*"1.5, 2"'):
        int_array('1.5, 2')
    with pytest.raises(ValueError, match='tuple of numbers'):
        float_array('(a, b)')
    with pytest.raises(ValueError):
        int_array('((1, 2))')


def test_spatial_sizes_follow_niftynet():
    assert spatial_atleast3d('(20, 42)') == (20, 42, 1)
    assert spatial_atleast3d('64') == (64, 1, 1)
    assert spatial_atleast3d('(1, 2, 3, 4)') == (1, 2, 3, 4)
    assert spatial_atleast3d('') == ()
    assert spatialnumarray('5') == (5, 5, 5)
    assert spatialnumarray('(1, 2)') == (1, 2, 2)
    assert spatialnumarray('') == (0, 0, 0)


def test_scalars_and_quotes():
    assert to_int(' 12 ') == 12
    assert to_float('1e-5') == 1e-5
    assert strip_quotes('""') == ''
    assert strip_quotes("'a b'") == 'a b'
    with pytest.raises(ValueError, match='expected an integer, got "ten"'):
        to_int('ten')
    with pytest.raises(ValueError, match='expected an integer'):
        to_int('1.5')
    with pytest.raises(ValueError, match='expected a number'):
        to_float('fast')


def test_generic_literals():
    assert parse_literal('100') == 100
    assert parse_literal('0.5') == 0.5
    assert parse_literal('True') is True
    assert parse_literal('(1, 2)') == (1, 2)
    assert parse_literal('T1, T2') == ('T1', 'T2')
    assert parse_literal('adam') == 'adam'
    assert parse_literal('"x y"') == 'x y'


def test_make_input_tuple():
    assert make_input_tuple('a') == ('a',)
    assert make_input_tuple(['a', 'b']) == ('a', 'b')
    assert make_input_tuple(3, int) == (3,)
    with pytest.raises(ValueError, match='non-empty'):
        make_input_tuple('')
    with pytest.raises(ValueError, match='every item'):
        make_input_tuple(['a', 1])
