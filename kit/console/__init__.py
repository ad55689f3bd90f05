"""How the kit talks to a terminal: TensorFlow kept quiet, progress bars on long steps.

quiet.py     TensorFlow's C++ start-up log lines kept off stderr (KIT_VERBOSE=1 shows them)
progress.py  one progress bar helper (tqdm): rate and ETA on a terminal, a line now and then in logs
"""
