"""The twin as an agent: one way in for every Event, whatever channel it came by.

understand.py reads a request (rules first), choose.py decides which skill this principal may have run
(the model only where the rules are unsure), toolbox.py holds the skills as typed tools, graph.py runs
understand -> act | recall -> guard, truth.py keeps replies to what happened, runner.py (`Twin`) is
what the CLI and the server call, and inbox.py handles new mail once each.
"""
