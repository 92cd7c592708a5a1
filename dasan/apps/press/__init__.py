"""Press desk (보도자료): archive questions, timelines, drafting and the house-style check."""
