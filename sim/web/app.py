"""The file ``streamlit run`` executes for ``sim app``; the page itself is ``sim.web.page``.

Nothing is imported at module level, on purpose: Streamlit runs this file as ``__main__``, and a
worker process started by ``multiprocessing`` (forkserver) imports the parent's main module again,
as ``__mp_main__``. The guard below keeps the workers from importing Streamlit and the page.
"""

if __name__ == "__main__":
    import sys

    from sim.web.page import main

    main(sys.argv[1:])
