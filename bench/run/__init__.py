"""Running a sweep: planning it (:mod:`.sweep`), executing its jobs (:mod:`.runner`), the bpp solver
(:mod:`.solver`), measuring decoded frames (:mod:`.measure`) and describing the machine
(:mod:`.environment`)."""
