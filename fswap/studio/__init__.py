"""`fswap studio`: a local web app to run a pipeline's stages and watch them (the `fswap[studio]` extra).

Nothing imports this package except the `studio` command; its modules need Starlette and uvicorn.
"""
