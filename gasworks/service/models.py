"""The service app's tables live in its subpackages (SUBPACKAGES in apps.py); Django finds
models through this module, so each subpackage's models are imported here."""

from gasworks.service.arrangements.models import *  # noqa: F403
from gasworks.service.collections.models import *  # noqa: F403
from gasworks.service.desk.models import *  # noqa: F403
from gasworks.service.moveout.models import *  # noqa: F403
