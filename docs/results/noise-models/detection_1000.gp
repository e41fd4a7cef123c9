# detection_1000.gp -- Accuracy and detection vs labels poisoned (1000 training items)
# Written by `poisonfarm report`; restyle and rerun with: gnuplot detection_1000.gp
# Data: detection_1000.dat (the left panel's blocks first, then the right one's; fractions).
reset
set encoding utf8
set grid lc rgb "#dddddd"
set style fill transparent solid 0.18 noborder
set terminal pngcairo size 1600,620 noenhanced font "sans,12"
set output "detection_1000.png"
set multiplot layout 1,2 title "Accuracy and detection vs labels poisoned (1000 training items)"
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
  "detection_1000.dat" index 0 using 1:($3*100):($4*100) with filledcurves lc rgb "#1f77b4" notitle, \
  "detection_1000.dat" index 1 using 1:($3*100):($4*100) with filledcurves lc rgb "#1f77b4" notitle, \
  "detection_1000.dat" index 2 using 1:($3*100):($4*100) with filledcurves lc rgb "#1f77b4" notitle, \
  "detection_1000.dat" index 3 using 1:($3*100):($4*100) with filledcurves lc rgb "#1f77b4" notitle, \
  "detection_1000.dat" index 4 using 1:($3*100):($4*100) with filledcurves lc rgb "#1f77b4" notitle, \
  "detection_1000.dat" index 5 using 1:($3*100):($4*100) with filledcurves lc rgb "#2ca02c" notitle, \
  "detection_1000.dat" index 6 using 1:($3*100):($4*100) with filledcurves lc rgb "#2ca02c" notitle, \
  "detection_1000.dat" index 7 using 1:($3*100):($4*100) with filledcurves lc rgb "#2ca02c" notitle, \
  "detection_1000.dat" index 8 using 1:($3*100):($4*100) with filledcurves lc rgb "#2ca02c" notitle, \
  "detection_1000.dat" index 9 using 1:($3*100):($4*100) with filledcurves lc rgb "#2ca02c" notitle, \
  keyentry with points pt 6 ps 2 lc rgb "#000000" title "collapsed: one class took >= 90 % of the predictions", \
  "detection_1000.dat" index 0 using 1:($2*100) with linespoints lc rgb "#1f77b4" dt 1 lw 2 pt 7 ps 0.7 title "mnist random", \
  "detection_1000.dat" index 0 using 1:($6>0 ? $2*100 : NaN) with points pt 6 ps 2 lc rgb "#1f77b4" notitle, \
  "detection_1000.dat" index 1 using 1:($2*100) with linespoints lc rgb "#1f77b4" dt 2 lw 2 pt 5 ps 0.7 title "mnist biased", \
  "detection_1000.dat" index 1 using 1:($6>0 ? $2*100 : NaN) with points pt 6 ps 2 lc rgb "#1f77b4" notitle, \
  "detection_1000.dat" index 2 using 1:($2*100) with linespoints lc rgb "#1f77b4" dt 3 lw 2 pt 9 ps 0.7 title "mnist first_wrong", \
  "detection_1000.dat" index 2 using 1:($6>0 ? $2*100 : NaN) with points pt 6 ps 2 lc rgb "#1f77b4" notitle, \
  "detection_1000.dat" index 3 using 1:($2*100) with linespoints lc rgb "#1f77b4" dt 4 lw 2 pt 11 ps 0.7 title "mnist pairflip", \
  "detection_1000.dat" index 3 using 1:($6>0 ? $2*100 : NaN) with points pt 6 ps 2 lc rgb "#1f77b4" notitle, \
  "detection_1000.dat" index 4 using 1:($2*100) with linespoints lc rgb "#1f77b4" dt 5 lw 2 pt 13 ps 0.7 title "mnist asymmetric", \
  "detection_1000.dat" index 4 using 1:($6>0 ? $2*100 : NaN) with points pt 6 ps 2 lc rgb "#1f77b4" notitle, \
  "detection_1000.dat" index 5 using 1:($2*100) with linespoints lc rgb "#2ca02c" dt 1 lw 2 pt 7 ps 0.7 title "cifar10 random", \
  "detection_1000.dat" index 5 using 1:($6>0 ? $2*100 : NaN) with points pt 6 ps 2 lc rgb "#2ca02c" notitle, \
  "detection_1000.dat" index 6 using 1:($2*100) with linespoints lc rgb "#2ca02c" dt 2 lw 2 pt 5 ps 0.7 title "cifar10 biased", \
  "detection_1000.dat" index 6 using 1:($6>0 ? $2*100 : NaN) with points pt 6 ps 2 lc rgb "#2ca02c" notitle, \
  "detection_1000.dat" index 7 using 1:($2*100) with linespoints lc rgb "#2ca02c" dt 3 lw 2 pt 9 ps 0.7 title "cifar10 first_wrong", \
  "detection_1000.dat" index 7 using 1:($6>0 ? $2*100 : NaN) with points pt 6 ps 2 lc rgb "#2ca02c" notitle, \
  "detection_1000.dat" index 8 using 1:($2*100) with linespoints lc rgb "#2ca02c" dt 4 lw 2 pt 11 ps 0.7 title "cifar10 pairflip", \
  "detection_1000.dat" index 8 using 1:($6>0 ? $2*100 : NaN) with points pt 6 ps 2 lc rgb "#2ca02c" notitle, \
  "detection_1000.dat" index 9 using 1:($2*100) with linespoints lc rgb "#2ca02c" dt 5 lw 2 pt 13 ps 0.7 title "cifar10 asymmetric", \
  "detection_1000.dat" index 9 using 1:($6>0 ? $2*100 : NaN) with points pt 6 ps 2 lc rgb "#2ca02c" notitle
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
  "detection_1000.dat" index 10 using 1:($3):($4) with filledcurves lc rgb "#1f77b4" notitle, \
  "detection_1000.dat" index 11 using 1:($3):($4) with filledcurves lc rgb "#1f77b4" notitle, \
  "detection_1000.dat" index 12 using 1:($3):($4) with filledcurves lc rgb "#1f77b4" notitle, \
  "detection_1000.dat" index 13 using 1:($3):($4) with filledcurves lc rgb "#1f77b4" notitle, \
  "detection_1000.dat" index 14 using 1:($3):($4) with filledcurves lc rgb "#1f77b4" notitle, \
  "detection_1000.dat" index 15 using 1:($3):($4) with filledcurves lc rgb "#2ca02c" notitle, \
  "detection_1000.dat" index 16 using 1:($3):($4) with filledcurves lc rgb "#2ca02c" notitle, \
  "detection_1000.dat" index 17 using 1:($3):($4) with filledcurves lc rgb "#2ca02c" notitle, \
  "detection_1000.dat" index 18 using 1:($3):($4) with filledcurves lc rgb "#2ca02c" notitle, \
  "detection_1000.dat" index 19 using 1:($3):($4) with filledcurves lc rgb "#2ca02c" notitle, \
  0.5 with lines lc rgb "#888888" dt 3 title "chance (0.5)", \
  keyentry with points pt 6 ps 2 lc rgb "#000000" title "collapsed: one class took >= 90 % of the predictions", \
  "detection_1000.dat" index 10 using 1:($2) with linespoints lc rgb "#1f77b4" dt 1 lw 2 pt 7 ps 0.7 title "mnist random", \
  "detection_1000.dat" index 10 using 1:($6>0 ? $2 : NaN) with points pt 6 ps 2 lc rgb "#1f77b4" notitle, \
  "detection_1000.dat" index 11 using 1:($2) with linespoints lc rgb "#1f77b4" dt 2 lw 2 pt 5 ps 0.7 title "mnist biased", \
  "detection_1000.dat" index 11 using 1:($6>0 ? $2 : NaN) with points pt 6 ps 2 lc rgb "#1f77b4" notitle, \
  "detection_1000.dat" index 12 using 1:($2) with linespoints lc rgb "#1f77b4" dt 3 lw 2 pt 9 ps 0.7 title "mnist first_wrong", \
  "detection_1000.dat" index 12 using 1:($6>0 ? $2 : NaN) with points pt 6 ps 2 lc rgb "#1f77b4" notitle, \
  "detection_1000.dat" index 13 using 1:($2) with linespoints lc rgb "#1f77b4" dt 4 lw 2 pt 11 ps 0.7 title "mnist pairflip", \
  "detection_1000.dat" index 13 using 1:($6>0 ? $2 : NaN) with points pt 6 ps 2 lc rgb "#1f77b4" notitle, \
  "detection_1000.dat" index 14 using 1:($2) with linespoints lc rgb "#1f77b4" dt 5 lw 2 pt 13 ps 0.7 title "mnist asymmetric", \
  "detection_1000.dat" index 14 using 1:($6>0 ? $2 : NaN) with points pt 6 ps 2 lc rgb "#1f77b4" notitle, \
  "detection_1000.dat" index 15 using 1:($2) with linespoints lc rgb "#2ca02c" dt 1 lw 2 pt 7 ps 0.7 title "cifar10 random", \
  "detection_1000.dat" index 15 using 1:($6>0 ? $2 : NaN) with points pt 6 ps 2 lc rgb "#2ca02c" notitle, \
  "detection_1000.dat" index 16 using 1:($2) with linespoints lc rgb "#2ca02c" dt 2 lw 2 pt 5 ps 0.7 title "cifar10 biased", \
  "detection_1000.dat" index 16 using 1:($6>0 ? $2 : NaN) with points pt 6 ps 2 lc rgb "#2ca02c" notitle, \
  "detection_1000.dat" index 17 using 1:($2) with linespoints lc rgb "#2ca02c" dt 3 lw 2 pt 9 ps 0.7 title "cifar10 first_wrong", \
  "detection_1000.dat" index 17 using 1:($6>0 ? $2 : NaN) with points pt 6 ps 2 lc rgb "#2ca02c" notitle, \
  "detection_1000.dat" index 18 using 1:($2) with linespoints lc rgb "#2ca02c" dt 4 lw 2 pt 11 ps 0.7 title "cifar10 pairflip", \
  "detection_1000.dat" index 18 using 1:($6>0 ? $2 : NaN) with points pt 6 ps 2 lc rgb "#2ca02c" notitle, \
  "detection_1000.dat" index 19 using 1:($2) with linespoints lc rgb "#2ca02c" dt 5 lw 2 pt 13 ps 0.7 title "cifar10 asymmetric", \
  "detection_1000.dat" index 19 using 1:($6>0 ? $2 : NaN) with points pt 6 ps 2 lc rgb "#2ca02c" notitle
unset multiplot
set output
set terminal svg size 1600,620 dynamic noenhanced font "sans,12"
set output "detection_1000.svg"
set multiplot layout 1,2 title "Accuracy and detection vs labels poisoned (1000 training items)"
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
  "detection_1000.dat" index 0 using 1:($3*100):($4*100) with filledcurves lc rgb "#1f77b4" notitle, \
  "detection_1000.dat" index 1 using 1:($3*100):($4*100) with filledcurves lc rgb "#1f77b4" notitle, \
  "detection_1000.dat" index 2 using 1:($3*100):($4*100) with filledcurves lc rgb "#1f77b4" notitle, \
  "detection_1000.dat" index 3 using 1:($3*100):($4*100) with filledcurves lc rgb "#1f77b4" notitle, \
  "detection_1000.dat" index 4 using 1:($3*100):($4*100) with filledcurves lc rgb "#1f77b4" notitle, \
  "detection_1000.dat" index 5 using 1:($3*100):($4*100) with filledcurves lc rgb "#2ca02c" notitle, \
  "detection_1000.dat" index 6 using 1:($3*100):($4*100) with filledcurves lc rgb "#2ca02c" notitle, \
  "detection_1000.dat" index 7 using 1:($3*100):($4*100) with filledcurves lc rgb "#2ca02c" notitle, \
  "detection_1000.dat" index 8 using 1:($3*100):($4*100) with filledcurves lc rgb "#2ca02c" notitle, \
  "detection_1000.dat" index 9 using 1:($3*100):($4*100) with filledcurves lc rgb "#2ca02c" notitle, \
  keyentry with points pt 6 ps 2 lc rgb "#000000" title "collapsed: one class took >= 90 % of the predictions", \
  "detection_1000.dat" index 0 using 1:($2*100) with linespoints lc rgb "#1f77b4" dt 1 lw 2 pt 7 ps 0.7 title "mnist random", \
  "detection_1000.dat" index 0 using 1:($6>0 ? $2*100 : NaN) with points pt 6 ps 2 lc rgb "#1f77b4" notitle, \
  "detection_1000.dat" index 1 using 1:($2*100) with linespoints lc rgb "#1f77b4" dt 2 lw 2 pt 5 ps 0.7 title "mnist biased", \
  "detection_1000.dat" index 1 using 1:($6>0 ? $2*100 : NaN) with points pt 6 ps 2 lc rgb "#1f77b4" notitle, \
  "detection_1000.dat" index 2 using 1:($2*100) with linespoints lc rgb "#1f77b4" dt 3 lw 2 pt 9 ps 0.7 title "mnist first_wrong", \
  "detection_1000.dat" index 2 using 1:($6>0 ? $2*100 : NaN) with points pt 6 ps 2 lc rgb "#1f77b4" notitle, \
  "detection_1000.dat" index 3 using 1:($2*100) with linespoints lc rgb "#1f77b4" dt 4 lw 2 pt 11 ps 0.7 title "mnist pairflip", \
  "detection_1000.dat" index 3 using 1:($6>0 ? $2*100 : NaN) with points pt 6 ps 2 lc rgb "#1f77b4" notitle, \
  "detection_1000.dat" index 4 using 1:($2*100) with linespoints lc rgb "#1f77b4" dt 5 lw 2 pt 13 ps 0.7 title "mnist asymmetric", \
  "detection_1000.dat" index 4 using 1:($6>0 ? $2*100 : NaN) with points pt 6 ps 2 lc rgb "#1f77b4" notitle, \
  "detection_1000.dat" index 5 using 1:($2*100) with linespoints lc rgb "#2ca02c" dt 1 lw 2 pt 7 ps 0.7 title "cifar10 random", \
  "detection_1000.dat" index 5 using 1:($6>0 ? $2*100 : NaN) with points pt 6 ps 2 lc rgb "#2ca02c" notitle, \
  "detection_1000.dat" index 6 using 1:($2*100) with linespoints lc rgb "#2ca02c" dt 2 lw 2 pt 5 ps 0.7 title "cifar10 biased", \
  "detection_1000.dat" index 6 using 1:($6>0 ? $2*100 : NaN) with points pt 6 ps 2 lc rgb "#2ca02c" notitle, \
  "detection_1000.dat" index 7 using 1:($2*100) with linespoints lc rgb "#2ca02c" dt 3 lw 2 pt 9 ps 0.7 title "cifar10 first_wrong", \
  "detection_1000.dat" index 7 using 1:($6>0 ? $2*100 : NaN) with points pt 6 ps 2 lc rgb "#2ca02c" notitle, \
  "detection_1000.dat" index 8 using 1:($2*100) with linespoints lc rgb "#2ca02c" dt 4 lw 2 pt 11 ps 0.7 title "cifar10 pairflip", \
  "detection_1000.dat" index 8 using 1:($6>0 ? $2*100 : NaN) with points pt 6 ps 2 lc rgb "#2ca02c" notitle, \
  "detection_1000.dat" index 9 using 1:($2*100) with linespoints lc rgb "#2ca02c" dt 5 lw 2 pt 13 ps 0.7 title "cifar10 asymmetric", \
  "detection_1000.dat" index 9 using 1:($6>0 ? $2*100 : NaN) with points pt 6 ps 2 lc rgb "#2ca02c" notitle
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
  "detection_1000.dat" index 10 using 1:($3):($4) with filledcurves lc rgb "#1f77b4" notitle, \
  "detection_1000.dat" index 11 using 1:($3):($4) with filledcurves lc rgb "#1f77b4" notitle, \
  "detection_1000.dat" index 12 using 1:($3):($4) with filledcurves lc rgb "#1f77b4" notitle, \
  "detection_1000.dat" index 13 using 1:($3):($4) with filledcurves lc rgb "#1f77b4" notitle, \
  "detection_1000.dat" index 14 using 1:($3):($4) with filledcurves lc rgb "#1f77b4" notitle, \
  "detection_1000.dat" index 15 using 1:($3):($4) with filledcurves lc rgb "#2ca02c" notitle, \
  "detection_1000.dat" index 16 using 1:($3):($4) with filledcurves lc rgb "#2ca02c" notitle, \
  "detection_1000.dat" index 17 using 1:($3):($4) with filledcurves lc rgb "#2ca02c" notitle, \
  "detection_1000.dat" index 18 using 1:($3):($4) with filledcurves lc rgb "#2ca02c" notitle, \
  "detection_1000.dat" index 19 using 1:($3):($4) with filledcurves lc rgb "#2ca02c" notitle, \
  0.5 with lines lc rgb "#888888" dt 3 title "chance (0.5)", \
  keyentry with points pt 6 ps 2 lc rgb "#000000" title "collapsed: one class took >= 90 % of the predictions", \
  "detection_1000.dat" index 10 using 1:($2) with linespoints lc rgb "#1f77b4" dt 1 lw 2 pt 7 ps 0.7 title "mnist random", \
  "detection_1000.dat" index 10 using 1:($6>0 ? $2 : NaN) with points pt 6 ps 2 lc rgb "#1f77b4" notitle, \
  "detection_1000.dat" index 11 using 1:($2) with linespoints lc rgb "#1f77b4" dt 2 lw 2 pt 5 ps 0.7 title "mnist biased", \
  "detection_1000.dat" index 11 using 1:($6>0 ? $2 : NaN) with points pt 6 ps 2 lc rgb "#1f77b4" notitle, \
  "detection_1000.dat" index 12 using 1:($2) with linespoints lc rgb "#1f77b4" dt 3 lw 2 pt 9 ps 0.7 title "mnist first_wrong", \
  "detection_1000.dat" index 12 using 1:($6>0 ? $2 : NaN) with points pt 6 ps 2 lc rgb "#1f77b4" notitle, \
  "detection_1000.dat" index 13 using 1:($2) with linespoints lc rgb "#1f77b4" dt 4 lw 2 pt 11 ps 0.7 title "mnist pairflip", \
  "detection_1000.dat" index 13 using 1:($6>0 ? $2 : NaN) with points pt 6 ps 2 lc rgb "#1f77b4" notitle, \
  "detection_1000.dat" index 14 using 1:($2) with linespoints lc rgb "#1f77b4" dt 5 lw 2 pt 13 ps 0.7 title "mnist asymmetric", \
  "detection_1000.dat" index 14 using 1:($6>0 ? $2 : NaN) with points pt 6 ps 2 lc rgb "#1f77b4" notitle, \
  "detection_1000.dat" index 15 using 1:($2) with linespoints lc rgb "#2ca02c" dt 1 lw 2 pt 7 ps 0.7 title "cifar10 random", \
  "detection_1000.dat" index 15 using 1:($6>0 ? $2 : NaN) with points pt 6 ps 2 lc rgb "#2ca02c" notitle, \
  "detection_1000.dat" index 16 using 1:($2) with linespoints lc rgb "#2ca02c" dt 2 lw 2 pt 5 ps 0.7 title "cifar10 biased", \
  "detection_1000.dat" index 16 using 1:($6>0 ? $2 : NaN) with points pt 6 ps 2 lc rgb "#2ca02c" notitle, \
  "detection_1000.dat" index 17 using 1:($2) with linespoints lc rgb "#2ca02c" dt 3 lw 2 pt 9 ps 0.7 title "cifar10 first_wrong", \
  "detection_1000.dat" index 17 using 1:($6>0 ? $2 : NaN) with points pt 6 ps 2 lc rgb "#2ca02c" notitle, \
  "detection_1000.dat" index 18 using 1:($2) with linespoints lc rgb "#2ca02c" dt 4 lw 2 pt 11 ps 0.7 title "cifar10 pairflip", \
  "detection_1000.dat" index 18 using 1:($6>0 ? $2 : NaN) with points pt 6 ps 2 lc rgb "#2ca02c" notitle, \
  "detection_1000.dat" index 19 using 1:($2) with linespoints lc rgb "#2ca02c" dt 5 lw 2 pt 13 ps 0.7 title "cifar10 asymmetric", \
  "detection_1000.dat" index 19 using 1:($6>0 ? $2 : NaN) with points pt 6 ps 2 lc rgb "#2ca02c" notitle
unset multiplot
set output
