"""``SamplerThreading``: starts the application's sampler threads."""
import logging

from niftydrive.engine.handler_base import EventHandler
from niftydrive.engine.signal import SESS_STARTED
from niftydrive.utilities.util_common import traverse_nested

LOGGER = logging.getLogger(__name__)


class SamplerThreading(EventHandler):
    """When the session starts, every sampler of the application starts
    ``num_threads`` threads filling its queue, or, with ``sampler_processes
    > 0``, that many worker processes (seeded from ``random_seed`` when it is
    set) and one feeding thread.  (The driver stops them when the run ends,
    whatever handlers are in use.)"""

    def __init__(self, num_threads=1, coordinator=None, sampler_processes=0,
                 random_seed=None, **kwargs):
        super(SamplerThreading, self).__init__(**kwargs)
        self.num_threads = num_threads
        self.coordinator = coordinator
        self.sampler_processes = sampler_processes or 0
        self.random_seed = random_seed
        self.listen(SESS_STARTED, self.start_sampler_threads)

    def start_sampler_threads(self, sender, session=None, **_unused):
        """Start each sampler's threads (an application may have none)."""
        if self.num_threads <= 0 or self.coordinator is None:
            return
        samplers = [sampler for sampler in
                    traverse_nested(sender.get_sampler() or [])
                    if sampler is not None]
        for index, sampler in enumerate(samplers):
            if self.sampler_processes > 0 and hasattr(sampler, 'run_processes'):
                seed = None if self.random_seed is None or self.random_seed < 0 \
                    else self.random_seed + 1000 * index
                sampler.run_processes(session, self.coordinator,
                                      self.sampler_processes, seed=seed)
            else:
                sampler.run_threads(session, self.coordinator, self.num_threads)
        if samplers:
            LOGGER.info('filling queues (this can take a few minutes)')
