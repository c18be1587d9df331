"""Workers: match events against reaction rules, fire the actions, emit the outcomes."""
