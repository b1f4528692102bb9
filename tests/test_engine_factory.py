"""Looking things up by name: applications, networks, optimisers, losses."""
import numpy as np
import pytest
import tensorflow.compat.v1 as tf

from niftydrive.application.toy_application import ToyApplication
from niftydrive.engine import application_optimiser
from niftydrive.engine.application_factory import ApplicationFactory, \
    ApplicationNetFactory, InitializerFactory, LossRegressionFactory, \
    LossSegmentationFactory, OptimiserFactory, SUPPORTED_NETWORK, \
    SUPPORTED_OPTIMIZERS, NIFTYNET_APPS_NOT_AVAILABLE
from niftydrive.network.toynet import ToyNet


def test_short_names_and_dotted_paths():
    assert ApplicationFactory.create('toy') is ToyApplication
    assert ApplicationFactory.create(
        'niftydrive.application.toy_application.ToyApplication') is ToyApplication
    assert ApplicationNetFactory.create('ToyNet') is ToyNet


@pytest.mark.parametrize('name', sorted(SUPPORTED_NETWORK))
def test_every_network_name_imports(name):
    assert callable(ApplicationNetFactory.create(name))


@pytest.mark.parametrize('factory, name, expected', [
    (ApplicationFactory, 'net_segmnt', 'did you mean "net_segment"'),
    (ApplicationNetFactory, 'highres3d', 'did you mean "highres3dnet"'),
    (OptimiserFactory, 'adm', 'did you mean "adam"'),
    (LossSegmentationFactory, 'Dise', 'did you mean "Dice"'),
])
def test_unknown_names_suggest_the_closest(factory, name, expected):
    with pytest.raises(ValueError, match='Could not import') as error:
        factory.create(name)
    assert expected in str(error.value)


def test_bad_dotted_path_names_the_module():
    with pytest.raises(ValueError, match='no_such_module'):
        ApplicationFactory.create('no_such_module.App')


def test_niftynet_application_we_lack_is_named():
    if not NIFTYNET_APPS_NOT_AVAILABLE:
        pytest.skip('every NiftyNet application is available')
    name = sorted(NIFTYNET_APPS_NOT_AVAILABLE)[0]
    with pytest.raises(ValueError, match='{}.*not available in niftydrive'.format(name)):
        ApplicationFactory.create(name)


@pytest.mark.parametrize('name', sorted(SUPPORTED_OPTIMIZERS))
def test_optimisers_minimise(name, graph):
    weight = tf.Variable(3.0)
    optimiser = OptimiserFactory.create(name).get_instance(0.1)
    step = optimiser.minimize(tf.square(weight))
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for _ in range(5):
            sess.run(step)
        assert abs(sess.run(weight)) < 3.0
    assert hasattr(application_optimiser, 'NesterovMomentum')


def test_regression_losses(graph):
    prediction = tf.constant([1.0, 2.0, 4.0])
    truth = tf.constant([1.0, 1.0, 1.0])
    weights = tf.constant([0.0, 1.0, 1.0])
    values = {name: LossRegressionFactory.create(name)(prediction, truth)
              for name in ('L1Loss', 'L2Loss', 'MAE', 'RMSE')}
    weighted_mae = LossRegressionFactory.create('MAE')(prediction, truth, weights)
    with tf.Session() as sess:
        result = sess.run(values)
        assert result['L1Loss'] == pytest.approx(4.0 / 3)  # a mean, as NiftyNet's
        assert result['L2Loss'] == pytest.approx(0.5 * 10.0)
        assert result['MAE'] == pytest.approx(4.0 / 3)
        assert result['RMSE'] == pytest.approx(np.sqrt(10.0 / 3))
        assert sess.run(weighted_mae) == pytest.approx(2.0)


def test_initialisers(graph):
    constant = tf.get_variable('c', shape=[2], initializer=InitializerFactory.get_initializer(
        'constant', {'value': 0.5}))
    he = tf.get_variable('he', shape=[50, 50], initializer=InitializerFactory.get_initializer(
        'he_normal'))
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        assert sess.run(constant).tolist() == [0.5, 0.5]
        assert 0.1 < sess.run(he).std() < 0.3  # sqrt(2 / 50) = 0.2
    with pytest.raises(ValueError, match='did you mean "orthogonal"'):
        InitializerFactory.get_initializer('orthogonl')
