"""Learning from the agency's own answered questions (질의회시, 민원 답변, 상담 사례).

- :mod:`archive` reads an archive in the shape of ../shared/data/legal-qa (JSONL records with a
  question and the official answer);
- :mod:`labels` turns the articles an answer cites into labels, checked against today's statutes;
- :mod:`mine` builds training pairs, keeping evaluation questions out by id and near-duplicate text;
- :mod:`memory` and :mod:`ranker` are what a trained model is: the archive's answered questions
  as evidence for articles, and a learned combination of that evidence with the search legs;
- :mod:`registry` keeps versioned models under the data directory (``dasan models``).
"""
