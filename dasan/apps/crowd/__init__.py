"""Crowd-risk early warning (밀집위험 사전 예측): series per place, forecasts with conformal
intervals, risk levels and alerts (issue 16)."""
