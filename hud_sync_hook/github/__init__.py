"""The GitHub Action's edges: the runner's inputs and event, its REST API, the plan comment, and the
files and workflow commands the runner reads back (outputs, job summary, annotations)."""
