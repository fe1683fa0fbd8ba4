"""Tasks written with the HUD SDK v6 (`pip install hud`), the way its users write them.

A template is a function of the environment; calling it makes a `Task` (env name, template id,
args). Its slug defaults to the template id plus a hash of the args; set one to keep it stable.
"""

from hud import Environment

env = Environment(name="letters")


@env.template(id="count")
async def count(sentence: str, letter: str):
    yield f"How many times does the letter {letter!r} appear in {sentence!r}?"


strawberry = count(sentence="Strawberry world", letter="r")  # slug: count-4376680e

banana = count(sentence="banana", letter="a")
banana.slug = "count-banana"
banana.columns = {"difficulty": "easy"}

mississippi = count(sentence="Mississippi", letter="s")
mississippi.slug = "count-mississippi"
mississippi.validation = [{"name": "answer_is", "arguments": {"value": 4}}]
