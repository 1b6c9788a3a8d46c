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
"""Sphinx configuration of the osc-image-store release notes."""

extensions = [
    'reno.sphinxext',
    'openstackdocstheme',
]

# openstackdocstheme. No openstackdocs_bug_project, openstackdocs_bug_tag or
# openstackdocs_repo_name: the project has neither a bug tracker nor an
# opendev.org repository, and with them the theme would add "report a bug"
# links (and source URLs) that lead nowhere.
openstackdocs_auto_name = False

project = 'osc-image-store Release Notes'
copyright = 'osc-image-store developers'

source_suffix = '.rst'
master_doc = 'index'
exclude_patterns = []
pygments_style = 'native'
smartquotes = False

html_theme = 'openstackdocs'

# Release notes do not need version numbers in the title.
version = ''
release = ''
