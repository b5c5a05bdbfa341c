"""The model stores: the shipped cache and the runs store (``cache``), and the class
leaderboard read from them (``leaderboard``)."""
