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
"""Sphinx configuration of the osc-image-store documentation."""

# -- General configuration ---------------------------------------------------

extensions = [
    'sphinx.ext.autodoc',
    'cliff.sphinxext',
    'openstackdocstheme',
]

# openstackdocstheme. No openstackdocs_bug_project, openstackdocs_bug_tag or
# openstackdocs_repo_name: the project has neither a bug tracker nor an
# opendev.org repository, and with them the theme would add "report a bug"
# links (and source URLs) that lead nowhere.
openstackdocs_auto_name = False

project = 'osc-image-store'
copyright = 'osc-image-store developers'

source_suffix = '.rst'
master_doc = 'index'
exclude_patterns = ['_build']
pygments_style = 'native'
# Command help is plain text: keep "--option" as typed (no en dashes, no
# curly quotes), so that it can be copied into a shell.
smartquotes = False

# cliff.sphinxext: document the commands as "openstack image store ..." and
# leave out the output-formatting options every OSC list command has.
autoprogram_cliff_application = 'openstack'
autoprogram_cliff_ignored = [
    '--help', '--format', '--column', '--max-width', '--fit-width',
    '--print-empty', '--noindent', '--quote', '--sort-column',
    '--sort-ascending', '--sort-descending',
]

# autodoc
autodoc_member_order = 'bysource'
autodoc_typehints = 'description'
# Types of documented parameters only: not the dozens of keyword arguments
# inherited from openstacksdk's Proxy and Resource constructors.
autodoc_typehints_description_target = 'documented_params'

# -- Options for HTML output -------------------------------------------------

html_theme = 'openstackdocs'
