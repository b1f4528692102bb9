"""OutputsCollector and GradientsCollector naming and averaging rules."""
import numpy as np
import pytest
import tensorflow.compat.v1 as tf

from niftydrive.engine.application_variables import CONSOLE, NETWORK_OUTPUT, \
    TF_SUMMARIES, GradientsCollector, OutputsCollector, \
    global_vars_init_or_restore, RESTORABLE


def test_netout_multiple_device(graph):
    n_device = 4
    collector = OutputsCollector(n_devices=n_device)
    for idx in range(n_device):
        with tf.name_scope('worker_%d' % idx):
            image = tf.ones([2, 32, 32, 32, 1])
            foo = tf.zeros([2, 2])
            bar = tf.zeros([42])
            collector.add_to_collection(name='image', var=image,
                                        collection=NETWORK_OUTPUT,
                                        average_over_devices=False)
            collector.add_to_collection(name='foo', var=foo,
                                        collection=NETWORK_OUTPUT,
                                        average_over_devices=False)
            collector.add_to_collection(name='bar', var=bar,
                                        collection=NETWORK_OUTPUT,
                                        average_over_devices=True)
    assert set(collector.variables(NETWORK_OUTPUT)) == {
        'image_1', 'image_3', 'image_2', 'image',
        'foo_1', 'foo_2', 'foo_3', 'foo', 'bar'}
    assert len(collector.variables(NETWORK_OUTPUT)['bar']) == n_device
    collector.finalise_output_op()
    assert isinstance(collector.variables(NETWORK_OUTPUT)['bar'], tf.Tensor)


def test_add_to_single_device(graph):
    collector = OutputsCollector(n_devices=1)
    with tf.name_scope('worker_0'):
        image = tf.ones([2, 32, 32, 32, 1])
        foo = tf.zeros([2, 2])
        bar = tf.zeros([42])
        collector.add_to_collection(name='image', var=image,
                                    average_over_devices=False)
        collector.add_to_collection(name='foo', var=foo,
                                    average_over_devices=False)
        collector.add_to_collection(name='bar', var=bar,
                                    collection=NETWORK_OUTPUT,
                                    average_over_devices=False)
    assert collector.variables(collection=CONSOLE) == {'image': image, 'foo': foo}
    assert collector.variables(collection=NETWORK_OUTPUT) == {'bar': bar}


def test_averaged_value_is_the_mean(graph):
    collector = OutputsCollector(n_devices=3)
    for value in (1.0, 2.0, 6.0):
        collector.add_to_collection(var=tf.constant(value), name='loss',
                                    average_over_devices=True)
    with pytest.raises(ValueError, match='loss'):
        collector.add_to_collection(var=tf.constant(0.0), name='loss',
                                    average_over_devices=True)
    collector.finalise_output_op()
    with tf.Session() as sess:
        assert sess.run(collector.variables(CONSOLE)['loss']) == pytest.approx(3.0)


def test_summaries_are_merged_with_their_names(graph):
    collector = OutputsCollector(n_devices=2)
    for value in (1.0, 3.0):
        collector.add_to_collection(var=tf.constant(value), name='loss',
                                    average_over_devices=True,
                                    collection=TF_SUMMARIES)
    collector.add_to_collection(var=tf.range(10.0), name='values',
                                collection=TF_SUMMARIES, summary_type='histogram')
    collector.add_to_collection(var=tf.ones([1, 4, 5, 6, 1]), name='volume',
                                collection=TF_SUMMARIES, summary_type='image3_axial')
    with pytest.raises(ValueError, match='summary type'):
        collector.add_to_collection(var=tf.constant(1.0), name='x',
                                    collection=TF_SUMMARIES, summary_type='gif')
    assert collector.variables(TF_SUMMARIES) == {}
    collector.finalise_output_op()
    with tf.Session() as sess:
        summary = tf.Summary.FromString(sess.run(collector.variables(TF_SUMMARIES)))
    values = {value.tag: value for value in summary.value}
    assert values['loss'].simple_value == pytest.approx(2.0)
    assert values['values'].histo.num == 10
    (volume_tag,) = [tag for tag in values if tag.startswith('volume')]
    assert (values[volume_tag].image.height,
            values[volume_tag].image.width) == (4, 5)


def test_gradients_collector_averages_and_limits_devices(graph):
    weight = tf.Variable(1.0)
    collector = GradientsCollector(n_devices=2)
    collector.add_to_collection([(tf.constant(2.0), weight)])
    collector.add_to_collection([(tf.constant(4.0), weight)])
    with pytest.raises(AssertionError):
        collector.add_to_collection([(tf.constant(4.0), weight)])
    ((grad, var),) = collector.gradients
    assert var is weight
    with tf.Session() as sess:
        assert sess.run(grad) == pytest.approx(3.0)


def test_gradients_of_several_optimisers(graph):
    w1, w2 = tf.Variable(1.0), tf.Variable(2.0)
    collector = GradientsCollector(n_devices=2)
    collector.add_to_collection([[(tf.constant(1.0), w1)], [(tf.constant(10.0), w2)]])
    collector.add_to_collection([[(tf.constant(3.0), w1)], [(tf.constant(30.0), w2)]])
    grads = collector.gradients
    assert len(grads) == 2
    with tf.Session() as sess:
        assert sess.run([grads[0][0][0], grads[1][0][0]]) == pytest.approx([2.0, 20.0])


def test_restorable_scope_starts_from_checkpoint(tmp_path):
    with tf.Graph().as_default():
        with tf.variable_scope('pretrained'):
            tf.get_variable('w', initializer=np.float32(7.0))
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            checkpoint = tf.train.Saver().save(sess, str(tmp_path / 'pre.ckpt'))
    with tf.Graph().as_default():
        with tf.variable_scope('encoder'):
            w = tf.get_variable('w', initializer=np.float32(0.0))
        other = tf.get_variable('other', initializer=np.float32(5.0))
        tf.add_to_collection(RESTORABLE, ('encoder', checkpoint, 'pretrained'))
        init = global_vars_init_or_restore()
        with tf.Session() as sess:
            sess.run(init)
            assert sess.run([w, other]) == [7.0, 5.0]


def test_add_to_collection_rejects_a_non_tensor_or_a_missing_name(graph):
    collector = OutputsCollector(n_devices=2)
    with pytest.raises(AssertionError, match='one tf.Tensor'):
        collector.add_to_collection(name='loss', var=None)
    with pytest.raises(AssertionError, match='one tf.Tensor'):
        collector.add_to_collection(name='loss', var=[tf.zeros([2])])
    with pytest.raises(AssertionError, match='needs a name'):
        collector.add_to_collection(name=None, var=tf.zeros([2]))
    assert collector.variables(CONSOLE) == {}


def test_an_averaged_name_added_more_often_than_there_are_devices(graph):
    collector = OutputsCollector(n_devices=2)
    bar = tf.zeros([42])
    collector.add_to_collection(name='bar', var=bar, average_over_devices=True)
    collector.add_to_collection(name='bar', var=bar, average_over_devices=True)
    with pytest.raises(ValueError, match='"bar" is averaged over 2 device'):
        collector.add_to_collection(name='bar', var=bar, average_over_devices=True)


def test_averaging_on_one_device_keeps_the_tensor_itself(graph):
    """As NiftyNet: with one device there is nothing to average."""
    collector = OutputsCollector(n_devices=1)
    loss = tf.constant(0.5)
    collector.add_to_collection(name='loss', var=loss, average_over_devices=True)
    assert collector.variables(CONSOLE) == {'loss': loss}
    collector.finalise_output_op()
    with tf.Session() as sess:
        assert sess.run(collector.variables(CONSOLE)) == {'loss': 0.5}
