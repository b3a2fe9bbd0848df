"""Home inspections (plans, tasks, checklists), hazards and their rectification, the supply
interlock, emergencies and crews, photos. Publishes InspectionBooked, InspectionTomorrow,
InspectionDone, NobodyHome, HazardRaised, DeadlineNear, DeadlinePassed, DeadlineClosed,
EmergencyReported, EmergencyDispatched."""
