"""Actions: render a rule's call from the event, guard its target, fire it, judge the answer."""
