# detection_full.gp -- Accuracy and detection vs labels poisoned (full training sets)
# Written by `poisonfarm report`; restyle and rerun with: gnuplot detection_full.gp
# Data: detection_full.dat (the left panel's blocks first, then the right one's; fractions).
reset
set encoding utf8
set grid lc rgb "#dddddd"
set style fill transparent solid 0.18 noborder
set terminal pngcairo size 1600,620 noenhanced font "sans,12"
set output "detection_full.png"
set multiplot layout 1,2 title "Accuracy and detection vs labels poisoned (full training sets)"
set lmargin at screen 0.05
set rmargin at screen 0.35
set title "Best validation accuracy"
set xlabel "training labels poisoned (%)"
set ylabel "accuracy (%)"
set xrange [0:100]
set xtics 10
set yrange [0:100]
set ytics 10
unset key
plot \
  "detection_full.dat" index 0 using 1:($3*100):($4*100) with filledcurves lc rgb "#1f77b4" notitle, \
  "detection_full.dat" index 1 using 1:($3*100):($4*100) with filledcurves lc rgb "#1f77b4" notitle, \
  "detection_full.dat" index 0 using 1:($2*100) with linespoints lc rgb "#1f77b4" dt 4 lw 2 pt 11 ps 0.7 title "mnist pairflip", \
  "detection_full.dat" index 1 using 1:($2*100) with linespoints lc rgb "#1f77b4" dt 5 lw 2 pt 13 ps 0.7 title "mnist asymmetric"
set lmargin at screen 0.42
set rmargin at screen 0.70
set title "Finding the poisoned items: AUROC of p(given label)"
set xlabel "training labels poisoned (%)"
set ylabel "AUROC"
set xrange [0:100]
set xtics 10
set yrange [0:1]
set ytics 0.1
set key outside right top noenhanced
plot \
  "detection_full.dat" index 2 using 1:($3):($4) with filledcurves lc rgb "#1f77b4" notitle, \
  "detection_full.dat" index 3 using 1:($3):($4) with filledcurves lc rgb "#1f77b4" notitle, \
  0.5 with lines lc rgb "#888888" dt 3 title "chance (0.5)", \
  "detection_full.dat" index 2 using 1:($2) with linespoints lc rgb "#1f77b4" dt 4 lw 2 pt 11 ps 0.7 title "mnist pairflip", \
  "detection_full.dat" index 3 using 1:($2) with linespoints lc rgb "#1f77b4" dt 5 lw 2 pt 13 ps 0.7 title "mnist asymmetric"
unset multiplot
set output
set terminal svg size 1600,620 dynamic noenhanced font "sans,12"
set output "detection_full.svg"
set multiplot layout 1,2 title "Accuracy and detection vs labels poisoned (full training sets)"
set lmargin at screen 0.05
set rmargin at screen 0.35
set title "Best validation accuracy"
set xlabel "training labels poisoned (%)"
set ylabel "accuracy (%)"
set xrange [0:100]
set xtics 10
set yrange [0:100]
set ytics 10
unset key
plot \
  "detection_full.dat" index 0 using 1:($3*100):($4*100) with filledcurves lc rgb "#1f77b4" notitle, \
  "detection_full.dat" index 1 using 1:($3*100):($4*100) with filledcurves lc rgb "#1f77b4" notitle, \
  "detection_full.dat" index 0 using 1:($2*100) with linespoints lc rgb "#1f77b4" dt 4 lw 2 pt 11 ps 0.7 title "mnist pairflip", \
  "detection_full.dat" index 1 using 1:($2*100) with linespoints lc rgb "#1f77b4" dt 5 lw 2 pt 13 ps 0.7 title "mnist asymmetric"
set lmargin at screen 0.42
set rmargin at screen 0.70
set title "Finding the poisoned items: AUROC of p(given label)"
set xlabel "training labels poisoned (%)"
set ylabel "AUROC"
set xrange [0:100]
set xtics 10
set yrange [0:1]
set ytics 0.1
set key outside right top noenhanced
plot \
  "detection_full.dat" index 2 using 1:($3):($4) with filledcurves lc rgb "#1f77b4" notitle, \
  "detection_full.dat" index 3 using 1:($3):($4) with filledcurves lc rgb "#1f77b4" notitle, \
  0.5 with lines lc rgb "#888888" dt 3 title "chance (0.5)", \
  "detection_full.dat" index 2 using 1:($2) with linespoints lc rgb "#1f77b4" dt 4 lw 2 pt 11 ps 0.7 title "mnist pairflip", \
  "detection_full.dat" index 3 using 1:($2) with linespoints lc rgb "#1f77b4" dt 5 lw 2 pt 13 ps 0.7 title "mnist asymmetric"
unset multiplot
set output
