# Licensed under the Apache License, Version 2.0 (the "License"); you may
# not use this file except in compliance with the License. You may obtain
# a copy of the License at
#
#      http://www.apache.org/licenses/LICENSE-2.0
#
# Unless required by applicable law or agreed to in writing, software
# distributed under the License is distributed on an "AS IS" BASIS, WITHOUT
# WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied. See the
# License for the specific language governing permissions and limitations
# under the License.

"""Command line of the local cloud::

    python -m localcloud start [--db postgresql|sqlite] [--dir D]
                               [--no-nomulti] [--no-odd]
                               [--max-parallel-stores N]
    python -m localcloud stop (--dir D | --state F)
    python -m localcloud run [start options] -- COMMAND...

``start`` prints an ``export ...`` line (eval-able) on stdout and leaves
the cloud running; ``run`` starts one, runs COMMAND with
``OS_CLIENT_CONFIG_FILE``, ``OS_CLOUD`` and
``OSC_IMAGE_STORE_CLOUD_STATE`` set (tests attach to it), stops it and
exits with COMMAND's code.
"""

import argparse
import pathlib
import shlex
import signal
import sys

from localcloud import cloud as local
from localcloud import config
from localcloud.servers import CloudError
from localcloud.servers import say


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog='python -m localcloud',
        description='A local Keystone + multi-store Glance for tests.')
    sub = parser.add_subparsers(dest='action', required=True)
    for name, text in (('start', 'start and leave it running'),
                       ('run', 'start, run a command against it, stop')):
        cmd = sub.add_parser(name, help=text)
        cmd.add_argument('--db', choices=('sqlite', 'postgresql'),
                         default='postgresql',
                         help='database of the multi-store and odd Glances '
                         '(default postgresql)')
        cmd.add_argument('--dir', type=pathlib.Path,
                         help='new or empty run directory (default: '
                         'a new .cloud/run-*, removed by stop)')
        cmd.add_argument('--no-nomulti', dest='nomulti', action='store_false',
                         help='do not run the multi-store-off Glance')
        cmd.add_argument('--no-odd', dest='odd', action='store_false',
                         help='do not run the odd Glance (http store)')
        cmd.add_argument('--max-parallel-stores', type=int,
                         default=config.MAX_PARALLEL_STORES, metavar='N',
                         help='max_parallel_stores of the multi-store '
                         'Glance: stores one import writes at once '
                         f'(default {config.MAX_PARALLEL_STORES}; 1 is '
                         'Glance\'s default)')
    sub.choices['run'].add_argument('command', nargs=argparse.REMAINDER,
                                    help='-- COMMAND...')
    stop = sub.add_parser('stop', help='stop a cloud left running by start')
    where = stop.add_mutually_exclusive_group(required=True)
    where.add_argument('--dir', type=pathlib.Path, help='its run directory')
    where.add_argument('--state', type=pathlib.Path, help='its state.json')
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit code.

    :param argv: the arguments (default ``sys.argv[1:]``).
    """
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        if args.action == 'stop':
            state = args.state or args.dir / 'state.json'
            local.LocalCloud.attach(state, require_running=False).stop()
            return 0
        command = []
        if args.action == 'run':
            command = args.command[args.command[:1] == ['--']:]
            if not command:
                parser.error('run needs a command after --')
        # SIGTERM unwinds like Ctrl-C, so the finally below stops servers.
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
        if args.max_parallel_stores < 1:
            parser.error('--max-parallel-stores must be at least 1')
        cloud = local.LocalCloud(args.dir, db=args.db, nomulti=args.nomulti,
                                 odd=args.odd,
                                 max_parallel_stores=args.max_parallel_stores)
        cloud.start()
        if args.action == 'start':
            print('export ' + ' '.join(f'{k}={shlex.quote(v)}'
                                       for k, v in cloud.env().items()))
            names = [n for n in config.clouds(cloud)]
            say(f'clouds {", ".join(names)} are left running; stop them '
                'with: python -m localcloud stop --dir '
                + shlex.quote(str(cloud.run_dir)))
            return 0
        try:
            return local.run_command(cloud, command)
        finally:
            cloud.stop()
    except CloudError as error:
        say(f'error: {error}')
        return 1


if __name__ == '__main__':
    sys.exit(main())
