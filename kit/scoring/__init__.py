"""Submissions judged on this machine, not on Kaggle.

offline.py   the form a submission file must have with the data at hand (sample, test set, or
             the config alone), and an offline competition's file scored on its test labels
"""
