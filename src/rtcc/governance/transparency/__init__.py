"""The transparency portal: public figures computed from the system of record at request time, and the annual
surveillance report (HTML and PDF) with the few figures only an admin can enter (costs, complaints)."""
