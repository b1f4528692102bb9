# -*- coding: utf-8 -*-
"""The user's global niftydrive settings (NiftyNet's ``NiftyNetGlobalConfig``).

The settings live in ``config.ini`` in the config folder: ``~/.niftydrive``,
or the folder named by the environment variable ``NIFTYDRIVE_CONFIG_HOME``.
Both are created on first use; the file holds::

    [global]
    home = ~/niftydrive

``home`` is the niftydrive home folder (models, examples), also created on
first use. An optional ``download_server_url`` entry overrides the examples
server URL that :meth:`NiftyNetGlobalConfig.get_download_server_url` returns. A config file without a ``[global] home`` entry, or that cannot be
parsed, is kept as ``config.ini.backup`` and replaced by the default (with a
warning).
"""
import configparser
import logging
import os
import shutil

LOGGER = logging.getLogger(__name__)

CONFIG_HOME_ENV = 'NIFTYDRIVE_CONFIG_HOME'
DEFAULT_CONFIG_HOME = os.path.join('~', '.niftydrive')
DEFAULT_HOME = os.path.join('~', 'niftydrive')
GLOBAL_SECTION = 'global'
HOME_KEY = 'home'
DOWNLOAD_SERVER_KEY = 'download_server_url'
# NiftyNet's model zoo, where its later versions downloaded examples from.
DEFAULT_DOWNLOAD_SERVER_URL = 'https://github.com/NifTK/NiftyNetModelZoo/raw/master'


class NiftyNetGlobalConfig(object):
    """Global settings, one object per config folder (a singleton as in NiftyNet).

    ``NiftyNetGlobalConfig()`` reads (or creates) the config file of the
    current config folder; after ``NIFTYDRIVE_CONFIG_HOME`` changes, the next
    call gives the object of the new folder.
    """

    _instances = {}

    def __new__(cls):
        config_home = os.path.abspath(os.path.expanduser(
            os.environ.get(CONFIG_HOME_ENV) or DEFAULT_CONFIG_HOME))
        if config_home not in cls._instances:
            instance = super(NiftyNetGlobalConfig, cls).__new__(cls)
            instance._load(config_home)
            cls._instances[config_home] = instance
        return cls._instances[config_home]

    def _load(self, config_home):
        self._config_home = config_home
        self._config_file = os.path.join(config_home, 'config.ini')
        os.makedirs(config_home, exist_ok=True)
        options = self._read()
        if options is None:
            options = self._write_default()
        self._home = os.path.abspath(os.path.expanduser(options[HOME_KEY]))
        self._download_server_url = options.get(DOWNLOAD_SERVER_KEY,
                                                DEFAULT_DOWNLOAD_SERVER_URL)

    def _read(self):
        """The ``[global]`` options, or None when the file is missing or unusable."""
        if not os.path.isfile(self._config_file):
            return None
        parser = configparser.ConfigParser()
        try:
            parser.read(self._config_file)
        except configparser.Error as error:
            LOGGER.warning('cannot parse %s (%s)', self._config_file, error)
        else:
            if parser.has_option(GLOBAL_SECTION, HOME_KEY):
                return dict(parser[GLOBAL_SECTION])
            LOGGER.warning('%s has no [%s] %s entry', self._config_file, GLOBAL_SECTION,
                           HOME_KEY)
        backup = self._config_file + '.backup'
        shutil.copyfile(self._config_file, backup)
        LOGGER.warning('kept it as %s and wrote the default settings', backup)
        return None

    def _write_default(self):
        parser = configparser.ConfigParser()
        parser[GLOBAL_SECTION] = {HOME_KEY: DEFAULT_HOME}
        with open(self._config_file, 'w') as handle:
            parser.write(handle)
        return dict(parser[GLOBAL_SECTION])

    def get_niftydrive_home_folder(self):
        """The home folder (created if needed)."""
        os.makedirs(self._home, exist_ok=True)
        return self._home

    def get_niftydrive_config_folder(self):
        """The folder holding ``config.ini``."""
        return self._config_home

    def get_default_examples_folder(self):
        """``<home>/examples``."""
        return os.path.join(self.get_niftydrive_home_folder(), 'examples')

    def get_download_server_url(self):
        """The URL of the examples server (NiftyNet's model zoo unless the
        config file sets ``download_server_url``). niftydrive downloads
        nothing itself; scripts written for NiftyNet read the URL from here."""
        return self._download_server_url


#: the class under niftydrive's own name
NiftyDriveGlobalConfig = NiftyNetGlobalConfig
