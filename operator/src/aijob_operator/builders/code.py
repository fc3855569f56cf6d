"""The volume and mount of a job's own code (`spec.code.configMap`), read-only.

The ConfigMap of the job's namespace is mounted at `CODE_MOUNT_PATH` with files readable
by the worker's user only as data (mode 0444, read-only mount): the code cannot be
changed from inside the pod, and nothing is executable. The volume is `optional`: a
ConfigMap that does not exist leaves the directory empty instead of holding the pod in
ContainerCreating, and the worker fails the job once naming `spec.code.configMap`
(bad input, not retried). Code from `spec.code.archiveUri` needs no volume: the worker
downloads it from the tenant's store with the credentials it already has. A custom
`spec.code.image` (allowed by the catalog's `customImages`, checked before a Job is made)
replaces the runtime's image; `spec.code.command` replaces its command and arguments.
"""

from __future__ import annotations

from typing import Final

from aijob_api.code import CODE_MOUNT_PATH
from aijob_api.spec import AIJobSpec
from lightkube.models.core_v1 import ConfigMapVolumeSource, Volume, VolumeMount

from aijob_operator.catalog import ResolvedRuntime

CODE_VOLUME: Final = "code"
CODE_FILE_MODE: Final = 0o444
"""Readable, not writable, not executable (scripts run through the interpreter)."""


def code_volumes(spec: AIJobSpec) -> list[Volume]:
    """The code ConfigMap as a volume, when the job runs code from one."""
    if spec.code is None or spec.code.config_map is None:
        return []
    return [
        Volume(
            name=CODE_VOLUME,
            configMap=ConfigMapVolumeSource(
                name=spec.code.config_map, defaultMode=CODE_FILE_MODE, optional=True
            ),
        )
    ]


def code_mounts(spec: AIJobSpec) -> list[VolumeMount]:
    """The code volume's read-only mount at `CODE_MOUNT_PATH`."""
    if spec.code is None or spec.code.config_map is None:
        return []
    return [VolumeMount(name=CODE_VOLUME, mountPath=CODE_MOUNT_PATH, readOnly=True)]


def worker_process(spec: AIJobSpec, runtime: ResolvedRuntime) -> tuple[str, list[str], list[str]]:
    """The worker container's image, command and args: the runtime's, or the job's own."""
    image, command, args = runtime.runtime.image, runtime.runtime.command, runtime.runtime.args
    if spec.code is not None and spec.code.image is not None:
        image = spec.code.image
        if spec.code.command is not None:
            command, args = spec.code.command, []
    return image, list(command), list(args)
