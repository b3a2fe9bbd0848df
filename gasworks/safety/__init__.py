"""Home inspections (plans, tasks, checklists), hazards and their rectification, the supply
interlock, emergencies and crews, photos. Publishes InspectionBooked, InspectionDone,
HazardRaised, DeadlineNear, DeadlineClosed, EmergencyReported, EmergencyDispatched."""
